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

// quartiles returns the type-7 first quartile, median and third quartile of a,
// reordering a in place.
func quartiles(a []float64) (q1, med, q3 float64) {
	n := len(a)
	if n < 8 {
		selectK(a, n-1) // insertion-sorts short slices entirely
		at := func(q float64) float64 {
			h := float64(n-1) * q
			l := int(h)
			if l+1 < n {
				return a[l] + (h-float64(l))*(a[l+1]-a[l])
			}
			return a[l]
		}
		return at(0.25), at(0.5), at(0.75)
	}
	hm := float64(n-1) * 0.5
	lm := int(hm)
	mv := selectK(a, lm) // a[:lm] ≤ a[lm] ≤ a[lm+1:]
	med = mv
	if hm > float64(lm) {
		med += 0.5 * (minOf(a[lm+1:]) - mv)
	}
	// Lower order statistics live in a[:lm], upper ones in a[lm+1:]; n ≥ 8
	// gives l1 < lm < l3.
	h1 := float64(n-1) * 0.25
	l1 := int(h1)
	q1 = selectK(a[:lm], l1)
	if f := h1 - float64(l1); f > 0 {
		next := mv
		if l1+1 < lm {
			next = minOf(a[l1+1 : lm])
		}
		q1 += f * (next - q1)
	}
	h3 := float64(n-1) * 0.75
	l3 := int(h3)
	up := a[lm+1:]
	q3 = selectK(up, l3-lm-1)
	if f := h3 - float64(l3); f > 0 && l3+1 < n {
		q3 += f * (minOf(up[l3-lm:]) - q3)
	}
	return q1, med, q3
}
