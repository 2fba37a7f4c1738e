// Package geo locates mobile POS terminals from the cells they hear and
// flags terminals that have left the merchant they are registered to
// ("machine moving").
//
// # Overview
//
//   - Geometry: LatLng, Haversine on the mean-radius sphere (IUGG R₁ =
//     6 371 008.8 m), Bearing and Destination on the same sphere, and
//     Geodesic, the WGS84 ellipsoidal distance computed with the method of
//     C. F. F. Karney, "Algorithms for geodesics", J. Geodesy 87, 43–55
//     (2013), doi:10.1007/s00190-012-0578-z. Unlike Vincenty's formulae it
//     converges for nearly antipodal points; it is tested against
//     GeographicLib's published test set GeodTest.dat. GeodesicInverse adds
//     the azimuths and GeodesicDirect solves the direct problem (Karney
//     2013, §3) on the same ellipsoid.
//   - Cells: CellID and its ranges follow 3GPP TS 23.003 (MCC, MNC,
//     LAC/TAC, 16/28/28/36-bit cell identities for GSM/UMTS/LTE/NR);
//     timing-advance steps follow TS 45.010 (GSM) and TS 36.213 (LTE).
//   - CellLocator is the interface a host implements over its own cell
//     data; package geotest is its conformance suite. CellDB is the
//     reference implementation: it loads the OpenCelliD / Mozilla Location
//     Service CSV exchange format into a compact sorted table (about 40
//     bytes a cell, held in 128 KiB chunks that a load fills once and sorts
//     in place, so the peak memory of a load is about the final table's)
//     and locates by weighted centroid with outlier clustering and a
//     location-area fallback.
//   - Monitor compares each Report's fix with the merchant's Site from a
//     SiteStore. A report is "outside" only when the fix's whole 95 %
//     circle clears the allowed radius (distance − accuracy − radius >
//     threshold), so coarse fixes never accuse honest merchants, and an
//     alert needs N of the last M reports outside. Verdict.Confidence is
//     a calibrated probability, from even prior odds, that the terminal
//     is at its site now: the fix is a circular normal with
//     σ = accuracy/2.4477, the chance that the terminal lies in a disc is
//     the Rice CDF 1 − Q₁ (Marcum's Q-function, see ProbWithin), "at the
//     site" is weighed against "moved within MovedRadiusM", and a
//     terminal's fixes are combined by a two-state hidden Markov filter
//     whose history is worth at most ln M of log-odds against the newest
//     fix. A report stamped before the terminal's newest (late, or
//     replayed) cannot raise its confidence, and one stamped more than
//     MaxClockSkew ahead of the monitor's clock is refused.
//   - Evidence-package shape (shared with risk, vision, motion): Assessor
//     is Monitor, NewAssessor(Config, CellLocator, SiteStore) makes one,
//     and (*Assessor).Score is its risk.Scorer[Report] method: a
//     risk.Signal with Source "geo", a Confidence at the neutral 0.5
//     reference (0.5 = no usable fix and no history) and reasons
//     ReasonMoved, ReasonOutside, ReasonAtSite, ReasonNear, ReasonUnknown
//     and ReasonArea. Check gives the richer Verdict beside it.
//   - Package geotest holds the conformance suites TestCellLocator and
//     TestSiteStore.
//
// # Quick start
//
//	db, stats, err := geo.LoadCSV(ctx, gzipReader, geo.LoadOptions{})
//	if err != nil { ... }                    // stats.SkippedTotal() counts bad rows
//	sites := geo.NewMemorySiteStore()
//	_ = sites.Put(ctx, "merchant-1", geo.Site{Location: geo.LatLng{Lat: 52.52, Lng: 13.40}, RadiusM: 300})
//	geoScorer, _ := geo.NewAssessor(geo.DefaultConfig(), db, sites)
//	signal, err := geoScorer.Score(ctx, geo.Report{TerminalID: "T1", MerchantID: "merchant-1",
//		At: now, Cells: []geo.CellObservation{{CellID: id, SignalDBm: -85}}})
//	// signal is a risk.Signal{Source: geo.Source, ...}; geoScorer.Check gives the Verdict.
//
// See ExampleNewAssessor, ExampleMonitor_Check and ExampleLoadCSV for
// runnable versions.
//
// All types are safe for concurrent use unless documented otherwise.
// Report times are supplied by the caller; the only clock read is
// MonitorConfig.Now (time.Now unless set, as crypto/tls.Config.Time),
// which bounds how far ahead of it a report may be stamped.
package geo
