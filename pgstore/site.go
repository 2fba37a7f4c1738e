package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/geo"
)

// SiteStore is a geo.SiteStore on PostgreSQL (table payedge_geo_sites):
// merchants' registered sites. It is safe for concurrent use by any number
// of goroutines and processes sharing the database.
type SiteStore struct{ b base }

var _ geo.SiteStore = (*SiteStore)(nil)

// NewSiteStore returns a store on pool; run Migrate first.
func NewSiteStore(pool *pgxpool.Pool) *SiteStore { return &SiteStore{b: base{pool: pool}} }

func (s *SiteStore) ready(ctx context.Context) error {
	if s == nil {
		return ErrNilPool
	}
	return s.b.ready(ctx)
}

// Site implements geo.SiteStore: the merchant's site, or an error wrapping
// geo.ErrSiteNotFound. A row that does not decode or validate is ErrCorrupt.
func (s *SiteStore) Site(ctx context.Context, merchantID string) (geo.Site, error) {
	if err := s.ready(ctx); err != nil {
		return geo.Site{}, err
	}
	var raw []byte
	err := s.b.pool.QueryRow(ctx, `SELECT site FROM payedge_geo_sites WHERE merchant_id = $1`, merchantID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.Site{}, fmt.Errorf("pgstore: merchant %q: %w", merchantID, geo.ErrSiteNotFound)
	}
	if err != nil {
		return geo.Site{}, classify("read site", err)
	}
	var site geo.Site
	if err := json.Unmarshal(raw, &site); err != nil {
		return geo.Site{}, &DecodeError{Table: "payedge_geo_sites", Key: merchantID, Err: err}
	}
	if err := site.Validate(); err != nil {
		return geo.Site{}, &DecodeError{Table: "payedge_geo_sites", Key: merchantID, Err: err}
	}
	return site, nil
}

// Put registers or replaces a merchant's site. An empty or over-long
// (geo.MaxIDBytes) merchant ID or an invalid site is an error wrapping
// geo.ErrInvalidSite, and nothing is written.
func (s *SiteStore) Put(ctx context.Context, merchantID string, site geo.Site) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if merchantID == "" || len(merchantID) > geo.MaxIDBytes {
		return fmt.Errorf("pgstore: merchant id length %d: %w", len(merchantID), geo.ErrInvalidSite)
	}
	if err := site.Validate(); err != nil {
		return err
	}
	enc, err := json.Marshal(site)
	if err != nil {
		return fmt.Errorf("pgstore: encode site: %w", err)
	}
	_, err = s.b.pool.Exec(ctx, `INSERT INTO payedge_geo_sites (merchant_id, site) VALUES ($1, $2)
		ON CONFLICT (merchant_id) DO UPDATE SET site = EXCLUDED.site, version = payedge_geo_sites.version + 1`,
		merchantID, enc)
	return classify("put site", err)
}

// Delete removes a merchant's site; deleting an unknown merchant is not an error.
func (s *SiteStore) Delete(ctx context.Context, merchantID string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	_, err := s.b.pool.Exec(ctx, `DELETE FROM payedge_geo_sites WHERE merchant_id = $1`, merchantID)
	return classify("delete site", err)
}
