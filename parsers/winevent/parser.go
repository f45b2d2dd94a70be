package winevent

import (
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// FormatXML is the format name of Windows Event XML.
const FormatXML = "eventxml"

// Parser parses Windows Event XML, one <Event> document a record, into ECS
// events. It is safe for concurrent use; the zero value is ready.
type Parser struct{}

var _ parsers.Parser = (*Parser)(nil)

// NewXMLParser returns a parser for Windows Event XML.
func NewXMLParser() *Parser { return &Parser{} }

// Parse reads raw with ParseXML, maps the record with ToECS and keeps raw
// (as UTF-8) as event.original. Errors wrap parsers.ErrUnparsable.
func (*Parser) Parse(raw []byte, _ parsers.Meta, e *event.Event) error {
	text, err := toUTF8(raw)
	if err != nil {
		return err
	}
	rec, err := ParseXML(text)
	if err != nil {
		return err
	}
	if err := ToECS(rec, e); err != nil {
		return err
	}
	e.Event.Original = string(text) // a copy: raw is not retained
	return nil
}
