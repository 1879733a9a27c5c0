"""The printed labels of the invoice document in the platform's five languages.

A typed dataclass, so a language missing a label fails at import time rather than on a customer's
invoice. Numbers, dates and amounts are not here: Babel formats them per locale (documents.locale).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentTexts:
    document_title: str
    draft: str
    paid_mark: str
    void_mark: str
    issue_date: str
    due_date: str
    seller: str
    bill_to: str
    tax_id: str
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    amount: str
    subtotal: str
    tax_at_rate: str  # one line of the VAT breakdown; {rate} is the formatted percentage, {basis} the amount it applies to
    total: str
    amount_paid: str
    amount_outstanding: str
    payment: str
    iban: str
    reference: str
    void_notice: str
    open_status: str  # the hosted page's status words; paid and void use the marks
    uncollectible_status: str
    download: str


ENGLISH = DocumentTexts(
    document_title="Invoice", draft="draft", paid_mark="PAID", void_mark="VOID", issue_date="Issue date",
    due_date="Due date", seller="From", bill_to="Bill to", tax_id="VAT ID", description="Description",
    quantity="Qty", unit_price="Unit price", tax_rate="VAT", amount="Amount", subtotal="Subtotal",
    tax_at_rate="VAT {rate} on {basis}", total="Total", amount_paid="Amount paid",
    amount_outstanding="Amount outstanding", payment="Payment by bank transfer", iban="IBAN",
    reference="Payment reference", void_notice="This invoice has been voided. Nothing is owed.",
    open_status="Open", uncollectible_status="Uncollectible", download="Download PDF",
)
GERMAN = DocumentTexts(
    document_title="Rechnung", draft="Entwurf", paid_mark="BEZAHLT", void_mark="STORNIERT",
    issue_date="Rechnungsdatum", due_date="Fällig am", seller="Von", bill_to="Rechnung an", tax_id="USt-IdNr.",
    description="Beschreibung", quantity="Menge", unit_price="Einzelpreis", tax_rate="USt.", amount="Betrag",
    subtotal="Zwischensumme", tax_at_rate="USt. {rate} auf {basis}", total="Gesamt", amount_paid="Bezahlt",
    amount_outstanding="Offener Betrag", payment="Zahlung per Überweisung", iban="IBAN",
    reference="Zahlungsreferenz", void_notice="Diese Rechnung wurde storniert. Es ist nichts zu zahlen.",
    open_status="Offen", uncollectible_status="Uneinbringlich", download="PDF herunterladen",
)
FRENCH = DocumentTexts(
    document_title="Facture", draft="brouillon", paid_mark="PAYÉE", void_mark="ANNULÉE",
    issue_date="Date de facture", due_date="Échéance", seller="De", bill_to="Facturé à",
    tax_id="N° TVA", description="Description", quantity="Qté", unit_price="Prix unitaire", tax_rate="TVA",
    amount="Montant HT", subtotal="Total HT", tax_at_rate="TVA {rate} sur {basis}", total="Total TTC",
    amount_paid="Déjà payé", amount_outstanding="Reste à payer", payment="Paiement par virement",
    iban="IBAN", reference="Référence de paiement",
    void_notice="Cette facture a été annulée. Aucun montant n'est dû.",
    open_status="À payer", uncollectible_status="Irrécouvrable", download="Télécharger le PDF",
)
ITALIAN = DocumentTexts(
    document_title="Fattura", draft="bozza", paid_mark="PAGATA", void_mark="ANNULLATA",
    issue_date="Data fattura", due_date="Scadenza", seller="Da", bill_to="Fatturato a", tax_id="P. IVA",
    description="Descrizione", quantity="Qtà", unit_price="Prezzo unitario", tax_rate="IVA", amount="Importo",
    subtotal="Imponibile", tax_at_rate="IVA {rate} su {basis}", total="Totale", amount_paid="Già pagato",
    amount_outstanding="Importo residuo", payment="Pagamento tramite bonifico", iban="IBAN",
    reference="Riferimento di pagamento", void_notice="Questa fattura è stata annullata. Non è dovuto nulla.",
    open_status="Da pagare", uncollectible_status="Inesigibile", download="Scarica il PDF",
)
SPANISH = DocumentTexts(
    document_title="Factura", draft="borrador", paid_mark="PAGADA", void_mark="ANULADA",
    issue_date="Fecha de factura", due_date="Vencimiento", seller="De", bill_to="Facturar a", tax_id="NIF-IVA",
    description="Descripción", quantity="Cant.", unit_price="Precio unitario", tax_rate="IVA",
    amount="Importe", subtotal="Base imponible", tax_at_rate="IVA {rate} sobre {basis}", total="Total",
    amount_paid="Ya pagado", amount_outstanding="Importe pendiente", payment="Pago por transferencia",
    iban="IBAN", reference="Referencia de pago", void_notice="Esta factura ha sido anulada. No se debe nada.",
    open_status="Pendiente", uncollectible_status="Incobrable", download="Descargar PDF",
)

BUILT_IN = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "it": ITALIAN, "es": SPANISH}


def base_language(language: str) -> str:
    """Regional variants use their base language (de-CH -> de); anything unknown gets English."""
    base = language.split("-")[0].lower()
    return base if base in BUILT_IN else "en"


def document_texts(language: str) -> DocumentTexts:
    return BUILT_IN[base_language(language)]
