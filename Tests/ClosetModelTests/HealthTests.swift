import ClosetModel
import Testing

@Suite struct HysteresisTests {
    let rule = HealthRule.limits(.init(warnHigh: 70, critHigh: 85, hysteresis: 2))

    /// Feeds values one after another, each evaluated against the level the previous gave.
    func levels(_ rule: HealthRule, _ values: [Double]) -> [HealthLevel] {
        var level = HealthLevel.ok
        return values.map { v in
            level = rule.evaluate(.number(v), unit: .celsius, previous: level).0
            return level
        }
    }

    @Test func aValueHoveringAtTheLineDoesNotFlap() {
        #expect(
            levels(rule, [69, 70, 69.5, 68.5, 68.1, 68, 69.9, 70])
                == [.ok, .warn, .warn, .warn, .warn, .ok, .ok, .warn])
    }

    @Test func critIsLeftOnlyPastTheHysteresisAndFallsBackToWarn() {
        #expect(levels(rule, [86, 84, 83.5, 83, 71, 67.9]) == [.crit, .crit, .crit, .warn, .warn, .ok])
    }

    @Test func lowLimitsMirrorHighOnes() {
        let low = HealthRule.limits(.init(warnLow: 20, critLow: 10, hysteresis: 5))
        #expect(levels(low, [30, 20, 24, 25, 9, 14, 15, 26]) == [.ok, .warn, .warn, .ok, .crit, .crit, .warn, .ok])
    }

    @Test func reasonsNameTheValueAndTheLimit() {
        let (level, reason) = rule.evaluate(.number(86.5), unit: .celsius, previous: .ok)
        #expect(level == .crit)
        #expect(reason == "86.5 degC >= crit 85 degC")
    }

    @Test func noHysteresisMeansPlainLimits() {
        let plain = HealthRule.limits(.init(warnHigh: 10))
        #expect(levels(plain, [10, 9.99, 10]) == [.warn, .ok, .warn])
    }

    @Test func upsFlagsMapToLevels() {
        let (level, reason) = HealthRule.defaultUPSFlags.evaluate(
            .status([.onBattery, .discharging, .lowBattery]), unit: nil, previous: .ok)
        #expect(level == .crit)
        #expect(reason == "on battery, battery low")
        #expect(HealthRule.defaultUPSFlags.evaluate(.status([.onLine, .charging]), unit: nil, previous: .ok).0 == .ok)
    }

    @Test func expectRulesCompareWords() {
        let r = HealthRule.expect(values: ["up"], level: .warn)
        #expect(r.evaluate(.text("up"), unit: nil, previous: .ok).0 == .ok)
        #expect(r.evaluate(.text("down"), unit: nil, previous: .ok) == (.warn, "down, expected up"))
    }

    @Test func levelsOrderByUrgency() {
        #expect(HealthLevel.ok < .unknown && HealthLevel.unknown < .warn && HealthLevel.warn < .crit)
    }
}
