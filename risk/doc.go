// Package risk holds the verdict types that every payedge evidence package
// reports in, the naive-Bayes fusion of those verdicts, the payment policy that
// turns a fused confidence into a decision, and the neighbour-device scorer
// behind passwordless (no-PIN) payments.
package risk
