// Chart axes: linear with "nice" steps, or logarithmic with 1-2-5 ticks, mapping values to a 0...1 fraction.
import Foundation

/// One tick of an axis: its value, and its label (nil for a grid line without one).
struct AxisTick: Equatable {
    var value: Double
    var label: String?
}

/// A numeric axis from `low` to `high`, linear or logarithmic.
struct ChartAxis {
    enum Scale { case linear, log }

    var scale: Scale
    var low: Double
    var high: Double
    var ticks: [AxisTick]

    /// A linear axis covering `low...high` with at most about `maxTicks` ticks in steps of 1, 2, 2.5 or 5
    /// times a power of ten (whole numbers only with `integerSteps`); an empty range is widened by one.
    static func linear(covering low: Double, _ high: Double, maxTicks: Int = 6, integerSteps: Bool = false) -> ChartAxis {
        var lo = low, hi = high
        if !(hi > lo) {
            lo -= integerSteps ? 1 : max(abs(lo) * 0.1, 1e-9)
            hi += integerSteps ? 1 : max(abs(hi) * 0.1, 1e-9)
        }
        let rough = (hi - lo) / Double(max(1, maxTicks - 1))
        let magnitude = pow(10, log10(rough).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) } ?? 10 * magnitude
        if integerSteps { step = max(1, step.rounded(.up)) }
        let first = (lo / step * (1 + 1e-12)).rounded(.down) * step
        let last = (hi / step * (1 - 1e-12)).rounded(.up) * step
        let count = Int(((last - first) / step).rounded())
        let decimals = (0...6).first { d in
            let scaled = step * pow(10, Double(d))
            return abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled)
        } ?? 6
        let ticks = (0...count).map { k -> AxisTick in
            let value = first + Double(k) * step
            return AxisTick(value: value, label: String(format: "%.\(decimals)f", abs(value) < step * 1e-9 ? 0 : value))
        }
        return ChartAxis(scale: .linear, low: first, high: last, ticks: ticks)
    }

    /// A logarithmic axis over the positive values in `values`, from the largest 1, 2 or 5 × 10^k at or
    /// below the smallest to the smallest at or above the largest. Ticks at 1, 2 and 5 × 10^k; all labelled
    /// when the axis spans at most 3 decades, else only the powers of ten. `ceiling` caps the top (100 for a
    /// percentage). With no positive value the axis is 0.1...1.
    static func log(covering values: [Double], ceiling: Double = .infinity) -> ChartAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let lo = positive.min() ?? 0.1, hi = max(positive.max() ?? 1, lo)
        func niceSteps(_ k: Int) -> [Double] { [1.0, 2, 5].map { $0 * pow(10, Double(k)) } }
        let kLow = Int(log10(lo).rounded(.down)), kHigh = Int(log10(hi).rounded(.up))
        let candidates = (kLow - 1...kHigh + 1).flatMap(niceSteps)
        let low = candidates.last { $0 <= lo * (1 + 1e-9) } ?? lo
        var high = candidates.first { $0 >= hi * (1 - 1e-9) } ?? hi
        high = min(high, max(ceiling, low * 2))
        if !(high > low) { high = low * 2 }
        let decades = log10(high / low)
        let ticks = candidates.filter { $0 >= low * (1 - 1e-9) && $0 <= high * (1 + 1e-9) }.map { value in
            let isPower = abs(log10(value) - log10(value).rounded()) < 1e-9
            return AxisTick(value: value, label: decades <= 3 || isPower ? Self.compactLabel(value) : nil)
        }
        return ChartAxis(scale: .log, low: low, high: high, ticks: ticks)
    }

    /// A value as short text: `0.05`, `2`, `100`, `1e-05`.
    static func compactLabel(_ value: Double) -> String { String(format: "%g", value) }

    /// Where `value` falls from `low` (0) to `high` (1); nil for a value a log axis cannot show (≤ 0, NaN).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .linear:
            return (value - low) / (high - low)
        case .log:
            guard value > 0 else { return nil }
            return Foundation.log(value / low) / Foundation.log(high / low)
        }
    }
}
