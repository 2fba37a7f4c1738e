// Package risk holds the verdict types that every payedge evidence package
// reports in, the naive-Bayes fusion of those verdicts, the payment policy that
// turns a fused confidence into a decision, and the neighbour-device scorer
// behind passwordless (no-PIN) payments. It depends on the standard library
// only.
//
// # Where things live
//
// The package holds two ideas, kept apart by file name:
//
//   - The shared verdict, used by every evidence package: [Signal], [Reason]
//     and [Scorer] (signal.go); fusion, [Fuse] and [Fuser] (fuse.go); the
//     payment [Policy], [Decision] and [Transaction] (policy.go); [Amount]
//     (amount.go); the one-call decision with its explanation,
//     [Policy.DecideExplained] and [Assessment] (assess.go); errors
//     (errors.go).
//   - The neighbour-device evidence behind passwordless payments, in the
//     files named neighbor_*.go: [NeighborAssessor] and [NeighborConfig]
//     (neighbor_assessor.go), the observation a terminal reports
//     ([NeighborObservation], neighbor_observation.go, and its JSON reader
//     [DecodeObservation], neighbor_decode.go), MAC addresses ([Addr],
//     neighbor_addr.go), learned profiles ([Profile], neighbor_profile.go)
//     and their store ([ProfileStore], [MemoryStore], neighbor_store.go).
//     Its conformance suite is risktest.TestProfileStore.
//
// # Overview
//
// Evidence packages (vision, motion, geo, …) return a [Signal]: a
// probability that the payment environment is genuine, calibrated at a
// neutral 50/50 reference (0.5 = no evidence; c/(1−c) is the evidence's
// likelihood ratio), plus [Reason] codes. [Fuse] combines signals by
// summing log-likelihood ratios onto the host's prior,
//
//	logit(P) = logit(prior) + Σ wᵢ·logit(cᵢ),
//
// with confidences clamped to [ε, 1−ε] so no single signal forces
// certainty, and NaN, infinite or out-of-range input rejected (NaN result,
// which the policy refuses). A [Fuser] adds per-source weights for
// correlated sources and [Fuser.Explain] reports which signals moved the
// result most. A [Policy] maps the fused confidence and a [Transaction] to
// a [Decision]: [Approve], [ApproveNoPIN], [RequirePIN] or [Decline].
// [Policy.DecideExplained] does both in one call and returns the decision
// with each signal's contribution and the top reasons.
//
// The [NeighborAssessor] is the passwordless capability: a terminal reports
// the WiFi access points and Bluetooth devices around it
// ([NeighborObservation]); the assessor compares them with the
// neighbourhood learned for that terminal (or preconfigured by the
// acquirer) in a [ProfileStore] and returns a Signal with Source
// [NeighborSource] and ReasonNeighbors… codes.
//
// # Quick start
//
//	neighbors, err := risk.NewNeighborAssessor(risk.NeighborConfig{}, risk.NewMemoryStore())
//	for _, obs := range trustedScans {          // routine scans of a terminal in place
//		err = neighbors.Learn(ctx, obs)          // at least MinObservations (3) of them
//	}
//	sig, err := neighbors.Score(ctx, paymentScan) // at payment time
//	a, err := risk.PSD2Policy().DecideExplained(0.5,
//		risk.Transaction{Amount: risk.Amount{Minor: 12_50, Currency: "EUR"}},
//		sig, visionSig)                         // plus any other evidence
//	fmt.Println(a.Decision, a.TopReasons(3))    // or a.String() for a log line
//
// The runnable examples (ExamplePolicy_DecideExplained, ExampleFuse,
// ExampleFuser_Explain, ExamplePolicy, ExampleNeighborAssessor,
// ExampleNormalizeAddr) are in example_test.go; `go doc` does not print
// them, pkg.go.dev and `go test -run Example -v` do.
//
// # Standards and sources
//
//   - Naive-Bayes evidence fusion in log-odds form: each confidence is the
//     posterior that evidence alone gives from even odds, so its
//     log-likelihood ratio is logit(cᵢ), added to logit(prior) (Good,
//     "Probability and the Weighing of Evidence", 1950; any text on naive
//     Bayes).
//   - EMV Contactless Specifications for Payment Systems, Book A
//     (Architecture and General Requirements) and Book B (Entry Point):
//     Reader Contactless Floor Limit (above it: online), Reader CVM Required
//     Limit (at or above it: cardholder verification), Reader Contactless
//     Transaction Limit (at or above it: contactless not allowed). Book C-2
//     (Kernel 2) compares the CVM limit with "greater than"; configure one
//     minor unit more to model it. See [ReaderLimits].
//   - Commission Delegated Regulation (EU) 2018/389 (PSD2 RTS on strong
//     customer authentication), Art. 11 contactless payments at point of
//     sale: no SCA for single payments ≤ EUR 50 while the cumulative amount
//     since the last SCA stays ≤ EUR 150 or the count ≤ 5 ([PSD2Policy]
//     enforces both, and allows no passwordless band above EUR 50).
//   - UnionPay QuickPass small-amount no-PIN/no-signature service: a
//     per-payment no-PIN limit (CNY 1,000 at the time of writing) with
//     issuer-configured cumulative caps. See [QuickPassPolicy].
//   - ISO 4217 currency codes and minor units. See [CurrencyExponent].
//   - IEEE Std 802-2014, clause 8 (MAC addresses): the U/L bit (0x02 of the first octet) marks
//     locally administered addresses, which randomised WiFi MACs use; the
//     I/G bit (0x01) marks group addresses, never a BSSID. See [Addr].
//   - Bluetooth Core Specification v5.4, Vol 6, Part B §1.3: LE random
//     device addresses — static (top bits 0b11), resolvable private (0b01)
//     and non-resolvable private (0b00); private addresses rotate and are
//     given no weight. See [Classify].
//
// # Neighbour scoring in brief
//
// Profiles keep, per neighbour, an exponentially decayed frequency of
// presence and mean and variance of RSSI ([Profile.Learn]). The score
// weights stable infrastructure over volatile identifiers and needs at
// least [NeighborConfig].MinExpected distinct expected devices matched
// before it trusts a match. Identifiers are grouped into devices the way
// vendors allocate them — one OUI, one block of [NeighborConfig].DeviceBlock
// addresses across WiFi, Bluetooth and BLE, locally administered variants
// included — so cloning every identifier of one access point or combo chip
// counts as one device and cannot pass. The scan's RSSIs are judged as a
// whole against each neighbour's learned mean and spread: clones replayed
// by one radio arrive at one strength, which fits "one transmitter" far
// better than the learned pattern, and are penalised from two devices up
// ([NeighborConfig].RSSIPatternSlack); matched strengths that spread no
// more than one transmitter's ([NeighborConfig].RSSIOneStrength) count as
// one device whatever the learned strengths, and an expected neighbour
// listed without the strength its profile learned is no match
// ([NeighborScore].NoRSSI). Score refuses observations older
// than MaxAge or further ahead than MaxSkew of an injected Clock
// ([FreshnessError]), scores a scan identical to a recent one of the same
// terminal (scored or learned) as a replay, ages an idle profile to the
// scan's time, and can
// require a host-supplied [ScanAuthenticator] to accept each scan.
// Reason codes such as neighbors.few_known, neighbors.rssi_uniform and
// neighbors.replayed say what drove it.
//
// [DecodeObservation] reads a terminal's JSON report with a size bound.
// Hosts keep profiles in their own [ProfileStore] (Redis, SQL, …) and check
// it against the contract with risktest.TestProfileStore; [MemoryStore] is
// the in-memory reference.
//
// # Errors
//
// Bad input never panics: every error wraps one of the Err… sentinels
// (errors.Is) and, where a caller needs the position, is a [*SignalError] or
// [*NeighborError] (errors.As).
package risk
