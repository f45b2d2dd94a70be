// Package fakebus is an in-memory bus.Producer for unit tests: it records
// what is published, and can fail the first calls, fail every call, or hold
// calls until a gate opens, to test retries and back-pressure.
package fakebus

import (
	"context"
	"fmt"
	"sync"

	"github.com/mamori-soc/mamori/bus"
)

// Producer records published batches. The zero value accepts everything.
type Producer struct {
	// Failures fails the first Failures calls with bus.ErrUnavailable.
	Failures int
	// Gate, while non-nil and not closed, holds every call until it closes
	// (or the call's context ends).
	Gate chan struct{}
	// Err, when set, fails every call with it.
	Err error

	mu      sync.Mutex
	batches [][]bus.Record
	calls   int
}

var _ bus.Producer = (*Producer)(nil)

// Publish records the batch unless told to fail.
func (p *Producer) Publish(ctx context.Context, recs ...bus.Record) error {
	if p.Gate != nil {
		select {
		case <-p.Gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.Err != nil {
		return p.Err
	}
	if p.calls <= p.Failures {
		return fmt.Errorf("fakebus: attempt %d: %w", p.calls, bus.ErrUnavailable)
	}
	p.batches = append(p.batches, append([]bus.Record(nil), recs...))
	return nil
}

// Records returns every recorded record in publish order.
func (p *Producer) Records() []bus.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []bus.Record
	for _, b := range p.batches {
		out = append(out, b...)
	}
	return out
}

// Topic returns the recorded records of one topic.
func (p *Producer) Topic(name string) []bus.Record {
	var out []bus.Record
	for _, r := range p.Records() {
		if r.Topic == name {
			out = append(out, r)
		}
	}
	return out
}

// Values returns the recorded values as strings.
func (p *Producer) Values() []string {
	recs := p.Records()
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

// Count returns how many records were recorded.
func (p *Producer) Count() int { return len(p.Records()) }

// BatchSizes returns the size of each recorded batch.
func (p *Producer) BatchSizes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, len(p.batches))
	for i, b := range p.batches {
		out[i] = len(b)
	}
	return out
}
