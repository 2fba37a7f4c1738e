// Package riceref holds the reference evaluation of the Rice CDF that
// package geo was calibrated on before issue 23 — composite Simpson
// quadrature on 128 intervals, every node evaluated with its own
// exponential and the Abramowitz & Stegun polynomial for e^{−x}I₀(x) — and
// builds from it the interpolation tables that geo evaluates instead
// (go generate in geo writes them to geo/ricetable.go; geo's tests rebuild
// them here and compare).
//
// The reference is the contract: geo.logRiceCDF must equal LogCDF within
// 1e-6 in ln P. LogCDF itself differs from the exact Rice CDF by up to
// ~4e-6 in ln P (the Simpson error where the window is cut at the disc's
// edge, e.g. u = 17, v = 16), so the tables are built from it, not from an
// exact Marcum Q.
//
// Quick start:
//
//	lnP := riceref.LogCDF(u, v) // the reference, ~3 µs
//	for _, t := range riceref.Tables() {
//		_ = t.Values // what geo/ricetable.go holds
//	}
package riceref
