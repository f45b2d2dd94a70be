package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/mamori-soc/mamori/internal/secret"
)

// SignatureHeader carries a webhook body's signature: "sha256=" and the
// hex HMAC-SHA256 of the body under the webhook's secret.
const SignatureHeader = "X-Mamori-Signature"

// webhook POSTs notifications to one endpoint.
type webhook struct {
	name   string
	url    string
	key    []byte // nil: no signature
	client *http.Client
}

func newWebhook(cfg WebhookConfig) (*webhook, error) {
	cfg.applyDefaults()
	w := &webhook{name: cfg.Name, url: cfg.URL}
	if cfg.SecretFile != "" {
		key, err := secret.Read(cfg.SecretFile, "")
		if err != nil {
			return nil, fmt.Errorf("secret_file: %w", err)
		}
		w.key = []byte(key)
	}
	pool, err := loadPool(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	w.client = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect would send the body where the configuration does not
		// say: a 3xx is a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

// Sign returns the value of the signature header for body under key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// send POSTs p and returns the response status; any status but 2xx is an
// error.
func (w *webhook) send(ctx context.Context, p WebhookPayload) (int, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: webhook %s: %w", ErrConfig, w.name, stripURL(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Mamori")
	req.Header.Set("X-Mamori-Notification", string(p.Kind))
	if w.key != nil {
		req.Header.Set(SignatureHeader, Sign(w.key, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: webhook %s: %w", ErrDelivery, w.name, stripURL(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%w: webhook %s answered %s", ErrDelivery, w.name, resp.Status)
	}
	return resp.StatusCode, nil
}

// stripURL drops the URL from an HTTP client error: it may hold a token,
// and the error ends up in the case's record.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
