package pgstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
)

// Example wires the neighbour scorer to profiles kept in PostgreSQL. It
// needs a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		fmt.Println(err)
		return
	}
	scorer, err := risk.NewNeighborAssessor(risk.NeighborConfig{}, pgstore.NewProfileStore(pool))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = scorer // scorer.Learn and scorer.Score now read and write PostgreSQL
}
