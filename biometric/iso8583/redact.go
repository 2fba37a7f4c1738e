package iso8583

import (
	"strings"

	"github.com/payedge/payedge/biometric"
)

// redactedError carries an error whose text may name a token or a card
// number (a host vault's message, a codec's complaint about field 2): its
// text is scrubbed, and errors.Is and errors.As still see the original.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of the secrets (a token, a PAN)
// masked to its last four characters and every other run of 13 or more
// digits (a card number the caller did not name) masked too. nil stays nil.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, biometric.MaskToken(sec))
		}
	}
	s = maskDigitRuns(s)
	if s == err.Error() {
		return err
	}
	return &redactedError{err: err, text: s}
}

// maskDigitRuns replaces every run of at least 13 ASCII digits (the shortest card numbers;
// 12-digit RRNs and amounts stay readable) by "…"
// and its last four digits.
func maskDigitRuns(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i >= 13 {
			b.WriteString("…" + s[j-4:j])
			i = j
			continue
		}
		if j > i {
			b.WriteString(s[i:j])
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
