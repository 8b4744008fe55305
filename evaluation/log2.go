package evaluation

import (
	"math/big"
	"math/bits"
)

// log2Prec is the working precision of log2: far above float64's 53 bits, so that rounding
// the result to float64 is correct but for arguments absurdly close to a rounding midpoint.
const log2Prec = 128

// log2e is log2(e) = 1/ln(2) to 60 digits.
const log2e = "1.44269504088896340735992468100189213742664595415298593413544940693"

// log2 returns log2(n) for n >= 1, correctly rounded to float64.
//
// DCG divides each gain by log2(rank+1). score_run.py takes that from C's log2, and Go's
// math.Log2 differs from it in the last bit for some ranks (3 and 9 among the first ten).
// The correctly rounded value equals glibc's for every rank below 1621, the first argument
// where glibc rounds the other way, so nDCG@k for k up to 1619 matches bit for bit.
func log2(n int) float64 {
	if n < 1 {
		panic("evaluation: log2 of a non-positive rank")
	}
	exp := bits.Len(uint(n)) - 1
	if n == 1<<exp {
		return float64(exp)
	}
	// n = m * 2^exp with m in (1, 2), so log2(n) = exp + ln(m) * log2(e).
	m := newFloat().SetInt64(int64(n))
	m.SetMantExp(m, -exp)
	scale, _, err := big.ParseFloat(log2e, 10, log2Prec, big.ToNearestEven)
	if err != nil {
		panic("evaluation: bad log2e constant: " + err.Error())
	}
	x := ln(m)
	x.Mul(x, scale)
	x.Add(x, newFloat().SetInt64(int64(exp)))
	f, _ := x.Float64()
	return f
}

// ln returns the natural logarithm of x in [1, 2] from the series
// ln(x) = 2 * (z + z^3/3 + z^5/5 + ...) with z = (x-1)/(x+1) <= 1/3.
func ln(x *big.Float) *big.Float {
	one := newFloat().SetInt64(1)
	z := newFloat().Quo(newFloat().Sub(x, one), newFloat().Add(x, one))
	z2 := newFloat().Mul(z, z)

	sum := newFloat().Set(z)
	power := newFloat().Set(z)
	term := newFloat()
	for k := int64(3); ; k += 2 {
		power.Mul(power, z2)
		term.Quo(power, newFloat().SetInt64(k))
		if term.Sign() == 0 || term.MantExp(nil) < sum.MantExp(nil)-log2Prec {
			break
		}
		sum.Add(sum, term)
	}
	return sum.Mul(sum, newFloat().SetInt64(2))
}

// newFloat returns a zero big.Float at the working precision.
func newFloat() *big.Float {
	return new(big.Float).SetPrec(log2Prec)
}
