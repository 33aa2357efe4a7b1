// How sure a test-set figure is: the confidence interval of an accuracy (Wilson's score interval) and
// the test of whether two classifiers differ on the same items (McNemar's, in its exact binomial form).
// Pure functions of counts; nothing here reads data or runs a network.
import Foundation

/// A count or option outside what a statistic is defined for.
public enum StatisticsError: Error, Equatable, CustomStringConvertible {
    /// A proportion needs `0 <= successes <= trials` and `trials >= 1`.
    case invalidCounts(successes: Int, trials: Int)
    /// A confidence level must lie strictly between 0 and 1.
    case invalidConfidence(Double)
    /// McNemar's test needs non-negative discordant counts.
    case negativeDiscordantCount(onlyFirst: Int, onlySecond: Int)
    /// Paired outcomes need two lists of the same length.
    case unpairedOutcomes(first: Int, second: Int)

    /// One line naming the value, what was expected and what was found.
    public var description: String {
        switch self {
        case let .invalidCounts(successes, trials):
            return "a proportion needs 0 ≤ successes ≤ trials and trials ≥ 1, found \(successes) of \(trials)"
        case let .invalidConfidence(level):
            return "confidence level must be between 0 and 1 (exclusive), found \(level)"
        case let .negativeDiscordantCount(b, c):
            return "discordant counts must be 0 or more, found \(b) and \(c)"
        case let .unpairedOutcomes(first, second):
            return "paired outcomes need as many items on both sides, found \(first) and \(second)"
        }
    }
}

/// A two-sided confidence interval of a proportion, both ends fractions in 0...1.
public struct ProportionInterval: Sendable, Equatable, Codable {
    /// Lower end, a fraction (0.9925 for 99.25%).
    public var lower: Double
    /// Upper end, a fraction.
    public var upper: Double
    /// An interval from its two ends.
    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// Confidence intervals and tests on counts of right and wrong answers.
public enum Statistics {
    /// The standard normal quantile Φ⁻¹(p) for `p` in (0, 1): z with P(Z ≤ z) = p.
    ///
    /// Acklam's rational approximation (relative error under 1.2e-9; P. J. Acklam, "An algorithm for computing
    /// the inverse normal cumulative distribution function", 2003) refined by two Halley steps on
    /// Φ(z) − p with Φ from the C library's `erfc` (on 1 − Φ(z) in the upper half, where 1 − p is exact),
    /// which brings it to the last bits: Φ⁻¹(0.975) = 1.959963984540054, as `scipy.special.ndtri`.
    /// Throws `StatisticsError.invalidConfidence` for `p` outside (0, 1).
    public static func normalQuantile(_ p: Double) throws -> Double {
        guard p > 0, p < 1 else { throw StatisticsError.invalidConfidence(p) }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549671010029924e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        func tail(_ q: Double) -> Double {  // q = √(−2 log(tail probability)), the lower tail's z
            (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        var z: Double
        if p < 0.02425 {
            z = tail((-2 * log(p)).squareRoot())
        } else if p > 1 - 0.02425 {
            z = -tail((-2 * log(1 - p)).squareRoot())
        } else {
            let q = p - 0.5, r = q * q
            z = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        for _ in 0..<2 {
            // Φ(z) − p, from whichever tail keeps its digits.
            let error = p < 0.5 ? 0.5 * erfc(-z / 2.0.squareRoot()) - p : (1 - p) - 0.5 * erfc(z / 2.0.squareRoot())
            let u = error * (2 * Double.pi).squareRoot() * exp(z * z / 2)
            z -= u / (1 + z * u / 2)
        }
        return z
    }

    /// Wilson's score interval of a proportion: `successes` right answers out of `trials`, two-sided at
    /// `confidence` (0.95 for a 95% interval).
    ///
    /// With p̂ = successes / trials, n = trials and z = Φ⁻¹((1 + confidence) / 2):
    /// centre = (p̂ + z²/2n) / (1 + z²/n), half width = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).
    /// Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference",
    /// JASA 22(158), 209–212. Unlike the normal (Wald) interval p̂ ± z√(p̂(1 − p̂)/n) it stays inside
    /// 0...1 and keeps its coverage near 0% and 100% (0 of n gives [0, z²/(n + z²)]).
    /// Matches `scipy.stats.binomtest(successes, trials).proportion_ci(confidence, method="wilson")`.
    /// Throws `StatisticsError.invalidCounts` unless 0 ≤ successes ≤ trials and trials ≥ 1, and
    /// `.invalidConfidence` unless 0 < confidence < 1.
    public static func wilsonInterval(
        successes: Int, trials: Int, confidence: Double = 0.95
    ) throws -> ProportionInterval {
        guard trials >= 1, successes >= 0, successes <= trials else {
            throw StatisticsError.invalidCounts(successes: successes, trials: trials)
        }
        guard confidence > 0, confidence < 1 else { throw StatisticsError.invalidConfidence(confidence) }
        let z = try normalQuantile(0.5 + 0.5 * confidence)
        let n = Double(trials), p = Double(successes) / n, q = 1 - p
        // SciPy's arrangement of the same formula: (2np + z² ± z√(4npq + z²)) / 2(n + z²).
        let denominator = 2 * (n + z * z)
        let centre = (2 * n * p + z * z) / denominator
        let half = z * (4 * n * p * q + z * z).squareRoot() / denominator
        // At 0 of n and n of n the ends are exactly 0 and 1 (the formula gives them up to rounding).
        return ProportionInterval(
            lower: successes == 0 ? 0 : max(0, centre - half), upper: successes == trials ? 1 : min(1, centre + half))
    }

    /// The two-sided p-value of McNemar's exact test: `onlyFirst` items that the first classifier got right
    /// and the second wrong (b), `onlySecond` the other way round (c).
    ///
    /// Under the null hypothesis that both classifiers are equally accurate, each of the n = b + c
    /// discordant items is a fair coin, so min(b, c) is that of Binomial(n, ½):
    /// p = min(1, 2 · Σ_{i ≤ min(b,c)} C(n, i) / 2ⁿ); items both got right or both got wrong say nothing.
    /// McNemar, Q. (1947), "Note on the sampling error of the difference between correlated proportions or
    /// percentages", Psychometrika 12(2), 153–157; the exact (binomial) form instead of his χ² approximation,
    /// which needs large b + c. Matches `scipy.stats.binomtest(b, b + c, 0.5).pvalue` (two-sided); with
    /// no discordant item (b = c = 0, where SciPy refuses n = 0) the p-value is 1: nothing tells them apart.
    /// C(n, min(b, c)) is a product of ratios with its power of two kept apart, and the other terms are ratios
    /// from it, so nothing overflows or underflows on the way and the result is within about 1e-13 relative
    /// for n up to 10,000 (rounding grows as √min(b, c)); p-values under about 5e-324 come back as 0.
    /// Throws `StatisticsError.negativeDiscordantCount` for a negative count.
    public static func mcNemarExactPValue(onlyFirst b: Int, onlySecond c: Int) throws -> Double {
        guard b >= 0, c >= 0 else { throw StatisticsError.negativeDiscordantCount(onlyFirst: b, onlySecond: c) }
        let n = b + c, k = min(b, c)
        guard 2 * k < n else { return 1 }  // b == c (including n = 0): the most likely outcome
        // C(n, k) / 2ⁿ as significand · 2^exponent: C(n, k) = Π_{i=1..k} (n − k + i) / i, the binary exponent
        // split off after every factor (exactly), and 2⁻ⁿ applied to the exponent alone (exactly).
        var significand = 1.0, exponent = -n
        if k > 0 {
            for i in 1...k {
                significand *= Double(n - k + i) / Double(i)
                exponent += Int(significand.exponent)
                significand = significand.significand
            }
        }
        // Σ_{i ≤ k} C(n, i) = C(n, k) · (1 + r_k + r_k r_{k−1} + …), r_i = C(n, i−1)/C(n, i) = i / (n − i + 1) < 1.
        var tail = 1.0, term = 1.0
        var i = k
        while i > 0 {
            term *= Double(i) / Double(n - i + 1)
            tail += term
            if term < tail * 1e-17 { break }
            i -= 1
        }
        // 2 · C(n, k) / 2ⁿ · tail, scaled by the exponent in one correctly rounded step (0 below the subnormals).
        return min(1, Double(sign: .plus, exponent: exponent + 1, significand: significand * tail))
    }
}

/// The 2 × 2 table of two classifiers' right and wrong answers on the same items, and what it says.
public struct PairedOutcomes: Sendable, Equatable, Codable {
    /// Items compared.
    public var count: Int
    /// Items both classifiers got right.
    public var bothRight: Int
    /// Items only the first classifier got right (McNemar's b).
    public var onlyFirstRight: Int
    /// Items only the second classifier got right (McNemar's c).
    public var onlySecondRight: Int
    /// Items both got wrong.
    public var bothWrong: Int

    /// Counts the table from each item's outcome, in the same item order on both sides.
    /// Throws `StatisticsError.unpairedOutcomes` when the lists differ in length.
    public init(first: [Bool], second: [Bool]) throws {
        guard first.count == second.count else {
            throw StatisticsError.unpairedOutcomes(first: first.count, second: second.count)
        }
        count = first.count
        (bothRight, onlyFirstRight, onlySecondRight, bothWrong) = (0, 0, 0, 0)
        for (a, b) in zip(first, second) {
            switch (a, b) {
            case (true, true): bothRight += 1
            case (true, false): onlyFirstRight += 1
            case (false, true): onlySecondRight += 1
            case (false, false): bothWrong += 1
            }
        }
    }

    /// Items the first classifier got right.
    public var firstRight: Int { bothRight + onlyFirstRight }
    /// Items the second classifier got right.
    public var secondRight: Int { bothRight + onlySecondRight }

    /// McNemar's exact two-sided p-value on the discordant items (see `Statistics.mcNemarExactPValue`).
    public var mcNemarPValue: Double {
        // The counts are non-negative by construction, so the test cannot throw.
        (try? Statistics.mcNemarExactPValue(onlyFirst: onlyFirstRight, onlySecond: onlySecondRight)) ?? 1
    }
}
