package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrUnavailable matches errors caused by a server that cannot be
	// reached or that dropped the connection; the operation may be retried.
	ErrUnavailable = errors.New("pgstore: database unavailable")
	// ErrSchemaTooNew is returned by Migrate and the stores when the
	// database holds a schema version newer than this package knows.
	ErrSchemaTooNew = errors.New("pgstore: database schema is newer than this version of pgstore")
	// ErrNotMigrated is returned by the stores when the database holds no
	// payedge schema or an older version of it: run Migrate first.
	ErrNotMigrated = errors.New("pgstore: database schema is missing or older than this version of pgstore (run Migrate)")
	// ErrLocked is returned by TenantStore.Lock while another client holds
	// the lock.
	ErrLocked = errors.New("pgstore: locked by another client")
	// ErrCorrupt matches a stored row that does not decode.
	ErrCorrupt = errors.New("pgstore: corrupt row")
	// ErrNilPool is returned by every method of a store built on a nil pool
	// (including a zero-value store).
	ErrNilPool = errors.New("pgstore: store has no connection pool (use New…Store)")
)

// DecodeError reports a stored row that failed to decode. It matches
// ErrCorrupt and unwraps to the decoding error.
type DecodeError struct {
	Table string // table of the row
	Key   string // primary key of the row
	Err   error  // what failed
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("pgstore: corrupt row %q in %s: %v", e.Key, e.Table, e.Err)
}

// Unwrap returns ErrCorrupt and the underlying error.
func (e *DecodeError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// classify wraps a driver error so that callers can branch on it: context
// errors stay as they are, connection failures also match ErrUnavailable.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 (connection exception) and 57P01–57P03 (admin shutdown,
		// crash shutdown, cannot connect now) mean the server went away.
		if len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03") {
			return fmt.Errorf("pgstore: %s: %w: %w", op, ErrUnavailable, err)
		}
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.SafeToRetry(err) || isClosedConn(err) {
		return fmt.Errorf("pgstore: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

func isClosedConn(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.Error() {
		case "conn closed", "unexpected EOF", "EOF":
			return true
		}
	}
	return errors.Is(err, net.ErrClosed)
}
