package motion

import "math"

// selectK rearranges a so that a[k] holds the k-th smallest value (0-based),
// everything before it is ≤ a[k] and everything after it is ≥ a[k], and returns
// a[k]. It is Hoare's quickselect with a median-of-three pivot: O(len(a))
// expected, in place, no allocation. NaNs must not be present.
func selectK(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for hi > lo {
		if hi-lo < 8 {
			// Insertion sort for short ranges.
			for i := lo + 1; i <= hi; i++ {
				v := a[i]
				j := i - 1
				for j >= lo && a[j] > v {
					a[j+1] = a[j]
					j--
				}
				a[j+1] = v
			}
			break
		}
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// minOf returns the smallest element of a non-empty a.
func minOf(a []float64) float64 {
	m := a[0]
	for _, v := range a[1:] {
		if v < m {
			m = v
		}
	}
	return m
}

// quantileSelect returns the q-quantile of a (Hyndman–Fan type 7, linear
// interpolation between order statistics, as R's and NumPy's default),
// reordering a in place.
func quantileSelect(a []float64, q float64) float64 {
	h := float64(len(a)-1) * q
	lo := int(math.Floor(h))
	v := selectK(a, lo)
	if f := h - float64(lo); f > 0 && lo+1 < len(a) {
		v += f * (minOf(a[lo+1:]) - v)
	}
	return v
}
