//! Element-wise kernels of the BERT encoder (GELU, softmax) over `f32` slices, written so that
//! the compiler vectorizes them: no branches, no calls into libm, and each compiled three times
//! (AVX-512, AVX2 + FMA, the baseline) with the widest one the CPU has picked at run time.
//!
//! The scalar `erf` and `exp` of libm were 17% of an embedding run's CPU (`perf`), one value at
//! a time. Here `exp` is a degree-7 Taylor polynomial on `[-ln 2 / 2, ln 2 / 2]` scaled by a
//! power of two (relative error below 2e-7), and `erf` is Abramowitz and Stegun's formula
//! 7.1.26 (absolute error below 1.5e-7 in exact arithmetic, 4.6e-7 with f32 rounding on a
//! grid of 1/512 steps) on top of it.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `x - n ln 2` stays exact for the `n` an `f32` exponent allows.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// Adding and subtracting 1.5 × 2^23 rounds an `f32` of magnitude below 2^22 to an integer.
const ROUND: f32 = 12_582_912.0;

/// `e^x` for `x` in `[-87, 88]` (clamped there: below, the result is ~1e-38 instead of a
/// subnormal or 0; above, ~1.6e38 instead of infinity).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // t's unit in the last place is 1, so its bits are ROUND's plus the rounded x log2(e):
    // the integer comes from the bits (a float-to-int conversion does not vectorize here).
    let t = x * LOG2_E + ROUND;
    let n = t - ROUND;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Horner on the Taylor series of e^r, |r| <= 0.347: the first omitted term is < 6e-9.
    let p = 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    // 2^k: k is an integer in [-126, 127] here, so k + 127 is a valid biased exponent.
    let scale = f32::from_bits((k.wrapping_add(127) as u32) << 23);
    p * scale
}

/// The error function, Abramowitz and Stegun 7.1.26.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// GELU with the error function: `x Φ(x) = x (1 + erf(x / √2)) / 2`.
#[inline(always)]
fn gelu_erf(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Softmax of `v` in place (an empty slice is left as is).
#[inline(always)]
fn softmax(v: &mut [f32]) {
    // Eight running maxima and sums so the reductions vectorize (a single accumulator is a
    // serial dependency the compiler must keep in order).
    let mut m = [f32::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (m, &x) in m.iter_mut().zip(c) {
            // Not f32::max: its NaN rule costs a compare and a blend per vector.
            *m = if x > *m { x } else { *m };
        }
    }
    let max = m
        .into_iter()
        .chain(chunks.remainder().iter().copied())
        .fold(f32::NEG_INFINITY, |a, x| if x > a { x } else { a });
    let mut s = [0f32; 8];
    let mut chunks = v.chunks_exact_mut(8);
    for c in &mut chunks {
        for (s, x) in s.iter_mut().zip(c.iter_mut()) {
            *x = exp(*x - max);
            *s += *x;
        }
    }
    let mut sum: f32 = s.iter().sum();
    for x in chunks.into_remainder() {
        *x = exp(*x - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    v.iter_mut().for_each(|x| *x *= inv);
}

/// Defines `pub fn $name(v: &mut [f32])` running `$body` compiled for the best of AVX-512,
/// AVX2 + FMA and the baseline that the CPU supports.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident, $body:ident) => {
        $(#[$doc])*
        pub fn $name(v: &mut [f32]) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
                fn avx512(v: &mut [f32]) {
                    $body(v)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2(v: &mut [f32]) {
                    $body(v)
                }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: the CPU has the features the function is compiled for.
                    return unsafe { avx512(v) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { avx2(v) };
                }
            }
            $body(v)
        }
    };
}

dispatch!(
    /// GELU (error-function form) of every value, in place.
    gelu_in_place,
    gelu_erf
);
dispatch!(
    /// Softmax of the whole slice, in place.
    softmax_in_place,
    softmax
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from -12 to 12 in steps of 1/512, and the edges.
    fn grid() -> Vec<f32> {
        let mut v: Vec<f32> = (-12 * 512..=12 * 512).map(|i| i as f32 / 512.0).collect();
        v.extend([-100.0, -88.5, 88.5, 100.0, 1e-8, -1e-8]);
        v
    }

    #[test]
    fn exp_is_within_2e_7_relative_of_libm_on_the_range_softmax_sees() {
        for x in (-87 * 64..=88 * 64).map(|i| i as f32 / 64.0) {
            let (got, want) = (exp(x), (x as f64).exp());
            let rel = ((got as f64 - want) / want).abs();
            assert!(
                rel < 2e-7,
                "exp({x}) = {got}, libm {want}, relative error {rel}"
            );
        }
        assert_eq!(exp(-1000.0), exp(-87.0));
    }

    #[test]
    fn erf_is_within_6e_7_of_libm() {
        for x in grid() {
            let (got, want) = (erf(x), libm_erf(x as f64));
            assert!(
                (got as f64 - want).abs() < 6e-7,
                "erf({x}) = {got}, libm {want}"
            );
        }
    }

    #[test]
    fn gelu_in_place_agrees_with_the_definition_at_every_width() {
        let xs = grid();
        let mut got = xs.clone();
        gelu_in_place(&mut got);
        for (x, g) in xs.iter().zip(&got) {
            let x = *x as f64;
            let want = 0.5 * x * (1.0 + libm_erf(x / std::f64::consts::SQRT_2));
            assert!(
                (*g as f64 - want).abs() <= 6e-7 * x.abs().max(1.0),
                "gelu({x}) = {g}, want {want}"
            );
        }
        // The dispatched kernel and the baseline one give the same values.
        let mut base = xs.clone();
        gelu_erf(&mut base);
        for (a, b) in got.iter().zip(&base) {
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0));
        }
    }

    #[test]
    fn softmax_in_place_sums_to_one_and_matches_f64() {
        for n in [1usize, 7, 8, 9, 31, 256, 1000] {
            let xs: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let mut got = xs.clone();
            softmax_in_place(&mut got);
            let max = xs.iter().fold(f64::NEG_INFINITY, |a, &x| a.max(x as f64));
            let sum: f64 = xs.iter().map(|&x| (x as f64 - max).exp()).sum();
            for (x, g) in xs.iter().zip(&got) {
                let want = (*x as f64 - max).exp() / sum;
                assert!(
                    (*g as f64 - want).abs() < 1e-6 * want.max(1e-3),
                    "n={n}: {g} vs {want}"
                );
            }
            let total: f32 = got.iter().sum();
            assert!((total - 1.0).abs() < 1e-5, "n={n}: sum {total}");
        }
        let mut empty: [f32; 0] = [];
        softmax_in_place(&mut empty);
    }

    /// erf in f64 from its Maclaurin series (|x| < 3) or its asymptotic continued fraction,
    /// precise to ~1e-15: the reference the f32 kernel is held to.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let y = if a < 3.0 {
            let (mut term, mut sum, mut k) = (a, a, 0.0f64);
            while term.abs() > 1e-17 * sum.abs() {
                k += 1.0;
                term *= -a * a / k;
                sum += term / (2.0 * k + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc(a) = e^{-a²}/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))), 60 terms.
            let mut f = 0.0;
            for k in (1..=60).rev() {
                f = (k as f64 / 2.0) / (a + f);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + f)
        };
        y.copysign(x)
    }
}
