package fr.tierspay.shell

import fr.tierspay.core.CurrencyCode
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import java.math.BigDecimal
import java.time.LocalDate
import java.util.Locale
import fr.tierspay.core.Amount as CoreAmount
import fr.tierspay.core.CoveragePreview as CorePreview
import fr.tierspay.core.Deduction as CoreDeduction
import fr.tierspay.core.Money as CoreMoney
import fr.tierspay.core.Provider as CoreProvider

/** Amounts, and the coverage records' mapping, without loading the library (generated records are plain classes). */
class AmountAndMappingTest {

    @Test
    fun `an amount shows the core's display string for the reader's locale`() {
        val amount = CoreAmount(123450, "EUR", "1 234,50 €", "€1,234.50")
        assertEquals("1 234,50 €", amount.display(Locale.FRANCE))
        assertEquals("1 234,50 €", amount.display(Locale.CANADA_FRENCH))
        assertEquals("€1,234.50", amount.display(Locale.UK))
        assertEquals("€1,234.50", amount.display(Locale.GERMANY), "English for any other reader")
    }

    private fun eur(cents: Long) = CoreMoney(cents, CurrencyCode.EUR, "")

    @Test
    fun `a preview maps to the shell's model, amounts from minor units`() {
        val core = CorePreview(
            id = "pv_1",
            actLabel = "Consultation", price = eur(3000), date = "2026-03-02",
            amo = eur(1900), amc = eur(900), member = eur(200), base = eur(3000), amoRate = "0.70",
            guarantee = "150 % BR incl. SS",
            deductions = listOf(
                CoreDeduction(DeductionKind.PARTICIPATION_FORFAITAIRE, eur(200)),
                CoreDeduction(DeductionKind.CEILING, eur(50)),
            ),
        )
        val shell = core.toShell()
        assertEquals(200L, shell.member.minorUnits)
        assertEquals(50L, shell.deductions.last().amount.minorUnits)
        assertEquals(LocalDate.of(2026, 3, 2), shell.date)
        assertEquals(BigDecimal("0.70"), shell.amoRate)
        assertEquals(listOf(DeductionKind.PARTICIPATION_FORFAITAIRE, DeductionKind.CEILING), shell.deductions.map { it.kind })
    }

    @Test
    fun `a French reader asks the core for French, any other reader for English`() {
        val readers = listOf(Locale.FRANCE, Locale.CANADA_FRENCH, Locale.UK, Locale.GERMANY)
        assertEquals(listOf(Language.FR, Language.FR, Language.EN, Language.EN), readers.map { it.coreLanguage() })
    }

    @Test
    fun `an amount in another currency from the core is Internal, a provider's sector is a number`() {
        val e = assertThrows(TiersPayError.Internal::class.java) {
            // A preview's amounts are euros by type (CurrencyCode); the other amounts carry a code.
            mapCoreErrors { CoreAmount(3000, "USD", "", "").toShell() }
        }
        assertEquals("The core sent an amount in USD", e.message)
        val provider = CoreProvider("prv_1", "K7M2QX", "Dr A", "Médecin généraliste", 3u.toUByte(), true, false, "Paris", "75011").toShell()
        assertEquals(3, provider.sector)
    }
}
