package fr.tierspay.shell

import java.math.BigDecimal
import java.math.RoundingMode
import java.text.NumberFormat
import java.util.Currency
import java.util.Locale

/**
 * An amount in euros, exact to the cent, as the core computed it.
 *
 * Why a [BigDecimal] and not the core's string or a Double: the shell never computes money (the
 * core rounds once, to the cent, and the three shares always add up to the price), but screens
 * compare amounts (is there anything left to pay?) and format them for the member's locale, and
 * a type of its own keeps an amount from being passed where a label or an id is expected. A
 * Double cannot hold 0.10 exactly; a BigDecimal at scale 2 holds exactly what the core sent, and
 * [toString] gives it back unchanged (`19.00`), so nothing is lost on the way back to the core.
 */
@JvmInline
value class Money private constructor(
    /** Euros, always at scale 2 (so `equals` is value equality). */
    val euros: BigDecimal,
) : Comparable<Money> {

    val isZero: Boolean get() = euros.signum() == 0

    override fun compareTo(other: Money): Int = euros.compareTo(other.euros)

    /** The core's form: plain digits, two places (`19.00`). */
    override fun toString(): String = euros.toPlainString()

    /** For people, in [locale]'s way: `19,00 €` in French, `€19.00` in English. */
    fun format(locale: Locale): String =
        (NumberFormat.getCurrencyInstance(locale).apply { currency = EURO }).format(euros)

    companion object {
        private val EURO: Currency = Currency.getInstance("EUR")
        private val SHAPE = Regex("""-?\d{1,15}(\.\d{1,2})?""")

        val ZERO: Money = Money(BigDecimal.ZERO.setScale(2))

        /**
         * Reads an amount as the core writes it: digits, then at most two decimals after a point
         * (`19`, `19.5`, `19.00`). Not for what a member types: the core reads that (`30,50 €`).
         *
         * @throws NumberFormatException for anything else.
         */
        fun parse(text: String): Money {
            if (!SHAPE.matches(text)) throw NumberFormatException("not an amount in euros: \"$text\"")
            return Money(BigDecimal(text).setScale(2, RoundingMode.UNNECESSARY))
        }

        /** [cents] as euros: `Money.ofCents(1900)` is 19.00. */
        fun ofCents(cents: Long): Money = Money(BigDecimal.valueOf(cents, 2))
    }
}
