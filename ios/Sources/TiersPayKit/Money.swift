import Foundation

/// An amount in euros, exact to the cent, as the core computed it.
///
/// Why not the core's string, and never a Double: the shell computes no money (the core rounds
/// once, to the cent, and the three shares add up to the price), but screens compare amounts
/// (is anything left to pay?), format them for the member's language, and must not pass an
/// amount where a label or an id is expected. A Double cannot hold 0.10; whole cents can, and
/// `amount` hands them out as a `Decimal` built from digits (never through a binary float).
/// `description` gives the core's form back unchanged (`19.00`), so nothing is lost on the
/// way back to the core (`checkPreview`).
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Whole cents: exact; equality and order use them.
    public let cents: Int64

    public init(cents: Int64) {
        self.cents = cents
    }

    public static let zero = Money(cents: 0)

    /// Reads an amount as the core writes it: an optional minus sign, 1 to 15 digits, and at
    /// most two decimals after a point (`19`, `19.5`, `19.00`). Nil for anything else. Not for
    /// what a member types (`30,50 €`): the core reads that and names the field when it is wrong.
    public init?(_ text: String) {
        guard let (value, scale) = FixedPoint.parse(text, maxWholeDigits: 15), scale <= 2 else { return nil }
        cents = scale == 2 ? value : value * (scale == 1 ? 10 : 100)
    }

    /// The amount in euros, exactly.
    public var amount: Decimal {
        Decimal(sign: cents < 0 ? .minus : .plus, exponent: -2, significand: Decimal(cents.magnitude))
    }

    public var isZero: Bool { cents == 0 }

    /// The core's form: plain digits, a point, two places (`19.00`, `-0.50`).
    public var description: String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(cents < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// For people, the way `locale` writes euros: `19,00 €` in French, `€19.00` in English.
    public func formatted(locale: Locale) -> String {
        let formatter = NumberFormatter()
        formatter.locale = locale
        formatter.numberStyle = .currency
        formatter.currencyCode = "EUR"
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        return formatter.string(from: NSDecimalNumber(decimal: amount)) ?? "\(description) €"
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }
}

/// Decimal strings as the core writes them, read digit by digit (no Double on the way).
enum FixedPoint {
    /// `-?\d{1,maxWholeDigits}(\.\d{1,4})?` as (all digits as an integer, decimals), or nil.
    static func parse(_ text: String, maxWholeDigits: Int) -> (value: Int64, scale: Int)? {
        var bytes = Array(text.utf8)[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...maxWholeDigits).contains(whole.count) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : []
        guard parts.count == 1 || (1...4).contains(fraction.count) else { return nil }
        var value: Int64 = 0
        for byte in whole + fraction {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return (negative ? -value : value, fraction.count)
    }

    /// An exact Decimal of a decimal string (`0.70`), or nil.
    static func decimal(_ text: String) -> Decimal? {
        guard let (value, scale) = parse(text, maxWholeDigits: 15) else { return nil }
        return Decimal(sign: value < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(value.magnitude))
    }

    /// `value` with at least `places` decimals (`0.7` -> `0.70`), as the core writes rates.
    static func string(_ value: Decimal, places: Int) -> String {
        var text = "\(value)"
        let decimals = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 }
        if decimals == nil { text += "." }
        text += String(repeating: "0", count: max(0, places - (decimals ?? 0)))
        return text
    }
}
