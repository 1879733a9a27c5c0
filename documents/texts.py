"""The printed labels of invoice and credit-note documents in the platform's five languages.

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
    payment_pending_status: str  # the hosted page's status while a transfer is on its way
    payment_pending_notice: str  # shown instead of asking to pay; {amount} is the amount on its way
    download: str
    credit_note_title: str
    credit_note_date: str  # its issue date: "Rechnungsdatum" would call it an invoice
    corrects: str  # a credit note's reference to the invoice it corrects; {number}, {date} the invoice's
    credited_against_invoice: str  # the part of a credit note that lowered what the invoice owes
    refunded: str
    credited_to_balance: str
    credit_notes: str  # the hosted invoice page's list of them
    exemption_notes: dict[str, str]  # by VAT category (contracts.tax): why a line bears no VAT
    bic: str
    scan_to_pay: str  # the caption of the transfer QR code (documents.epc_qr)

    def title_of(self, kind: str) -> str:
        return self.credit_note_title if kind == "credit_note" else self.document_title

    def issue_date_of(self, kind: str) -> str:
        return self.credit_note_date if kind == "credit_note" else self.issue_date


ENGLISH = DocumentTexts(
    document_title="Invoice", draft="draft", paid_mark="PAID", void_mark="VOID", issue_date="Issue date",
    due_date="Due date", seller="From", bill_to="Bill to", tax_id="VAT ID", description="Description",
    quantity="Qty", unit_price="Unit price", tax_rate="VAT", amount="Amount", subtotal="Subtotal",
    tax_at_rate="VAT {rate} on {basis}", total="Total", amount_paid="Amount paid",
    amount_outstanding="Amount outstanding", payment="Payment by bank transfer", iban="IBAN",
    reference="Payment reference", void_notice="This invoice has been voided. Nothing is owed.",
    open_status="Open", uncollectible_status="Uncollectible", download="Download PDF",
    payment_pending_status="Payment pending",
    payment_pending_notice="Your transfer of {amount} is on its way: our bank has announced it.",
    credit_note_title="Credit note", credit_note_date="Issue date", corrects="Corrects invoice {number} of {date}",
    credited_against_invoice="Deducted from the invoice", refunded="Refunded to you",
    credited_to_balance="Credited to your balance", credit_notes="Credit notes",
    bic="BIC", scan_to_pay="Scan to pay with your banking app",
    exemption_notes={"AE": "reverse charge", "G": "export outside the EU, VAT exempt", "E": "VAT exempt"},
)
GERMAN = DocumentTexts(
    document_title="Rechnung", draft="Entwurf", paid_mark="BEZAHLT", void_mark="STORNIERT",
    issue_date="Rechnungsdatum", due_date="Fällig am", seller="Von", bill_to="Rechnung an", tax_id="USt-IdNr.",
    description="Beschreibung", quantity="Menge", unit_price="Einzelpreis", tax_rate="USt.", amount="Betrag",
    subtotal="Zwischensumme", tax_at_rate="USt. {rate} auf {basis}", total="Gesamt", amount_paid="Bezahlt",
    amount_outstanding="Offener Betrag", payment="Zahlung per Überweisung", iban="IBAN",
    reference="Zahlungsreferenz", void_notice="Diese Rechnung wurde storniert. Es ist nichts zu zahlen.",
    open_status="Offen", uncollectible_status="Uneinbringlich", download="PDF herunterladen",
    payment_pending_status="Zahlung unterwegs",
    payment_pending_notice="Ihre Überweisung über {amount} ist unterwegs: unsere Bank hat sie angekündigt.",
    credit_note_title="Gutschrift", credit_note_date="Gutschriftsdatum", corrects="Korrigiert Rechnung {number} vom {date}",
    credited_against_invoice="Mit der Rechnung verrechnet", refunded="Wird Ihnen erstattet",
    credited_to_balance="Ihrem Guthaben gutgeschrieben", credit_notes="Gutschriften",
    bic="BIC", scan_to_pay="Mit Ihrer Banking-App scannen und bezahlen",
    exemption_notes={"AE": "Steuerschuldnerschaft des Leistungsempfängers", "G": "steuerfreie Ausfuhr",
                     "E": "steuerfrei"},
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
    payment_pending_status="Paiement en cours",
    payment_pending_notice="Votre virement de {amount} est en cours : notre banque l’a annoncé.",
    credit_note_title="Avoir", credit_note_date="Date de l'avoir", corrects="Rectifie la facture {number} du {date}",
    credited_against_invoice="Déduit de la facture", refunded="Remboursé", credited_to_balance="Porté à votre crédit",
    credit_notes="Avoirs",
    bic="BIC", scan_to_pay="Scannez pour payer avec votre appli bancaire",
    exemption_notes={"AE": "autoliquidation", "G": "exportation hors UE, exonérée de TVA", "E": "exonération de TVA"},
)
ITALIAN = DocumentTexts(
    document_title="Fattura", draft="bozza", paid_mark="PAGATA", void_mark="ANNULLATA",
    issue_date="Data fattura", due_date="Scadenza", seller="Da", bill_to="Fatturato a", tax_id="P. IVA",
    description="Descrizione", quantity="Qtà", unit_price="Prezzo unitario", tax_rate="IVA", amount="Importo",
    subtotal="Imponibile", tax_at_rate="IVA {rate} su {basis}", total="Totale", amount_paid="Già pagato",
    amount_outstanding="Importo residuo", payment="Pagamento tramite bonifico", iban="IBAN",
    reference="Riferimento di pagamento", void_notice="Questa fattura è stata annullata. Non è dovuto nulla.",
    open_status="Da pagare", uncollectible_status="Inesigibile", download="Scarica il PDF",
    payment_pending_status="Pagamento in corso",
    payment_pending_notice="Il vostro bonifico di {amount} è in arrivo: la nostra banca lo ha annunciato.",
    credit_note_title="Nota di credito", credit_note_date="Data della nota", corrects="Rettifica la fattura {number} del {date}",
    credited_against_invoice="Detratto dalla fattura", refunded="Rimborsato", credited_to_balance="Accreditato sul saldo",
    credit_notes="Note di credito",
    bic="BIC", scan_to_pay="Inquadra per pagare con la tua app bancaria",
    exemption_notes={"AE": "inversione contabile", "G": "esportazione fuori dall'UE, non imponibile",
                     "E": "esente IVA"},
)
SPANISH = DocumentTexts(
    document_title="Factura", draft="borrador", paid_mark="PAGADA", void_mark="ANULADA",
    issue_date="Fecha de factura", due_date="Vencimiento", seller="De", bill_to="Facturar a", tax_id="NIF-IVA",
    description="Descripción", quantity="Cant.", unit_price="Precio unitario", tax_rate="IVA",
    amount="Importe", subtotal="Base imponible", tax_at_rate="IVA {rate} sobre {basis}", total="Total",
    amount_paid="Ya pagado", amount_outstanding="Importe pendiente", payment="Pago por transferencia",
    iban="IBAN", reference="Referencia de pago", void_notice="Esta factura ha sido anulada. No se debe nada.",
    open_status="Pendiente", uncollectible_status="Incobrable", download="Descargar PDF",
    payment_pending_status="Pago en curso",
    payment_pending_notice="Su transferencia de {amount} está en camino: nuestro banco la ha anunciado.",
    credit_note_title="Nota de abono", credit_note_date="Fecha de emisión", corrects="Rectifica la factura {number} del {date}",
    credited_against_invoice="Descontado de la factura", refunded="Reembolsado", credited_to_balance="Abonado a su saldo",
    credit_notes="Notas de abono",
    bic="BIC", scan_to_pay="Escanee para pagar con su app bancaria",
    exemption_notes={"AE": "inversión del sujeto pasivo", "G": "exportación fuera de la UE, exenta",
                     "E": "exento de IVA"},
)

BUILT_IN = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "it": ITALIAN, "es": SPANISH}


def base_language(language: str) -> str:
    """Regional variants use their base language (de-CH -> de); anything unknown gets English."""
    base = language.split("-")[0].lower()
    return base if base in BUILT_IN else "en"


def document_texts(language: str) -> DocumentTexts:
    return BUILT_IN[base_language(language)]
