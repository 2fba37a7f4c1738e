package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/sdn"
)

// TenantStore is an sdn.Store on PostgreSQL (table payedge_sdn_tenants):
// the region-interconnect controller's tenant records, as JSON. A
// controller restarted on the same database re-reserves exactly the
// identifiers recorded here. Safe for concurrent use; run one controller
// per database at a time (see Lock).
type TenantStore struct{ b base }

var _ sdn.Store = (*TenantStore)(nil)

// NewTenantStore returns a store on pool; run Migrate first.
func NewTenantStore(pool *pgxpool.Pool) *TenantStore { return &TenantStore{b: base{pool: pool}} }

func (s *TenantStore) ready(ctx context.Context) error {
	if s == nil {
		return ErrNilPool
	}
	return s.b.ready(ctx)
}

func decodeTenant(id string, raw []byte) (sdn.TenantRecord, error) {
	var r sdn.TenantRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return sdn.TenantRecord{}, &DecodeError{Table: "payedge_sdn_tenants", Key: id, Err: err}
	}
	if r.Spec.ID != id {
		return sdn.TenantRecord{}, &DecodeError{Table: "payedge_sdn_tenants", Key: id, Err: fmt.Errorf("record holds tenant %q", r.Spec.ID)}
	}
	return r, nil
}

// Get implements sdn.Store.
func (s *TenantStore) Get(ctx context.Context, tenantID string) (sdn.TenantRecord, error) {
	if err := s.ready(ctx); err != nil {
		return sdn.TenantRecord{}, err
	}
	var raw []byte
	err := s.b.pool.QueryRow(ctx, `SELECT record FROM payedge_sdn_tenants WHERE tenant_id = $1`, tenantID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return sdn.TenantRecord{}, fmt.Errorf("pgstore: tenant %q: %w", tenantID, sdn.ErrTenantNotFound)
	}
	if err != nil {
		return sdn.TenantRecord{}, classify("get tenant", err)
	}
	return decodeTenant(tenantID, raw)
}

// Put implements sdn.Store. A record without a tenant ID is sdn.ErrInvalid.
func (s *TenantStore) Put(ctx context.Context, r sdn.TenantRecord) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if r.Spec.ID == "" {
		return fmt.Errorf("pgstore: record without tenant id: %w", sdn.ErrInvalid)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("pgstore: encode tenant %q: %w", r.Spec.ID, err)
	}
	_, err = s.b.pool.Exec(ctx, `INSERT INTO payedge_sdn_tenants (tenant_id, record) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET record = EXCLUDED.record`, r.Spec.ID, raw)
	return classify("put tenant", err)
}

// Delete implements sdn.Store.
func (s *TenantStore) Delete(ctx context.Context, tenantID string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	_, err := s.b.pool.Exec(ctx, `DELETE FROM payedge_sdn_tenants WHERE tenant_id = $1`, tenantID)
	return classify("delete tenant", err)
}

// List implements sdn.Store: every record, sorted by tenant ID.
func (s *TenantStore) List(ctx context.Context) ([]sdn.TenantRecord, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.b.pool.Query(ctx, `SELECT tenant_id, record FROM payedge_sdn_tenants ORDER BY tenant_id COLLATE "C"`)
	if err != nil {
		return nil, classify("list tenants", err)
	}
	defer rows.Close()
	var out []sdn.TenantRecord
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, classify("list tenants", err)
		}
		r, err := decodeTenant(id, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, classify("list tenants", rows.Err())
}

// tenantLockKey is the advisory lock that Lock takes ("payedge\x02").
const tenantLockKey = 0x7061796564676502

// Lock makes the caller the one sdn.Controller of this database (in the
// store's search_path): an sdn.Controller keeps its identifier pools in
// memory and reads the records only when it starts, so two controllers
// writing one table at once would hand out the same identifiers. Lock
// holds a PostgreSQL session advisory lock on a connection of its own; it
// returns ErrLocked at once when another client holds it. unlock gives it
// back (calling it again does nothing); if the process dies, the server
// frees the lock with the connection, so a standby can take over and start
// its controller with sdn.NewController.
func (s *TenantStore) Lock(ctx context.Context) (unlock func(), err error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	conn, err := s.b.pool.Acquire(ctx)
	if err != nil {
		return nil, classify("lock tenants", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(tenantLockKey)).Scan(&got); err != nil {
		conn.Release()
		return nil, classify("lock tenants", err)
	}
	if !got {
		conn.Release()
		return nil, ErrLocked
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Closing the connection frees the lock even when the unlock
			// query cannot run.
			if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(tenantLockKey)); err != nil {
				conn.Conn().Close(context.Background())
			}
			conn.Release()
		})
	}, nil
}
