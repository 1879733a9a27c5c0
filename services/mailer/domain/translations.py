"""The built-in texts of invoice and credit-note mails (the attached document has its own:
documents.texts), in the platform's five languages. Amounts and dates are not written here but
by Babel in the mail's language (documents.locale).

Subjects and intros are format strings with the fields `number` (the mail's document's),
`company` and, for a credit note, `invoice` (the number of the invoice it corrects); `qr_alt` has
`amount` and `payee`. A typed dataclass rather than loose dictionaries, so a language missing a
text fails at import time instead of in front of a customer (and a test checks every dictionary
has every kind).
"""

from dataclasses import dataclass
from typing import Literal

from contracts.messages.mail import MailKind

DocumentType = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class Texts:
    subjects: dict[MailKind, str]
    intros: dict[MailKind, str]
    greeting: str
    closing: str
    payment_instruction: str
    attached: dict[DocumentType, str]  # said when the PDF is attached
    on_page: dict[DocumentType, str]  # said when it is not, and the mail links the page
    pay_action: str  # the link's label while the invoice asks for payment
    view_invoice: str
    view_credit_note: str
    transfer_heading: str
    payee: str
    bic: str
    amount: str
    qr_caption: str
    qr_alt: str
    draft: str
    number: str
    due_date: str
    total: str
    amount_paid: str
    paid_on: str
    amount_outstanding: str  # what is still owed, after what was paid
    iban: str
    reference: str
    credit_note_number: str
    amount_credited: str
    refunded: str  # the part of a credit note paid back to the customer
    credited_to_balance: str  # the part kept as the customer's balance for later invoices


ENGLISH = Texts(
    subjects={
        "invoice": "Invoice {number} from {company}",
        "receipt": "Receipt for invoice {number} from {company}",
        "void_notice": "Invoice {number} from {company} has been voided",
        "reminder": "Reminder: invoice {number} from {company}",
        "credit_note": "Credit note {number} from {company}",
    },
    intros={
        "invoice": "Here is invoice {number} from {company}.",
        "receipt": "Thank you for your payment. Invoice {number} from {company} is paid in full.",
        "void_notice": "Invoice {number} from {company} has been voided. You do not need to pay it.",
        "reminder": "This is a friendly reminder that invoice {number} from {company} is awaiting payment.",
        "credit_note": "Here is credit note {number} from {company}. It corrects invoice {invoice}.",
    },
    greeting="Hello {customer},",
    closing="Kind regards,",
    payment_instruction=(
        "Please transfer the amount outstanding to the account below and quote the payment reference, "
        "so that your payment is matched automatically."
    ),
    attached={"invoice": "The invoice is attached as a PDF.", "credit_note": "The credit note is attached as a PDF."},
    on_page={"invoice": "You can view and download the invoice on its page.",
             "credit_note": "You can view and download the credit note on its page."},
    pay_action="View and pay invoice",
    view_invoice="View invoice",
    view_credit_note="View credit note",
    transfer_heading="Pay by bank transfer",
    payee="Payee",
    bic="BIC",
    amount="Amount",
    qr_caption="Scan the code with your banking app to pay by transfer.",
    qr_alt="QR code for a bank transfer of {amount} to {payee}",
    draft="draft",
    number="Invoice number",
    due_date="Due date",
    total="Total",
    amount_paid="Amount paid",
    paid_on="Paid on",
    amount_outstanding="Amount outstanding",
    iban="IBAN",
    reference="Payment reference",
    credit_note_number="Credit note number",
    amount_credited="Amount credited",
    refunded="Refunded to you",
    credited_to_balance="Credited to your balance",
)

GERMAN = Texts(
    subjects={
        "invoice": "Rechnung {number} von {company}",
        "receipt": "Zahlungsbestätigung für Rechnung {number} von {company}",
        "void_notice": "Rechnung {number} von {company} wurde storniert",
        "reminder": "Zahlungserinnerung: Rechnung {number} von {company}",
        "credit_note": "Gutschrift {number} von {company}",
    },
    intros={
        "invoice": "hiermit erhalten Sie die Rechnung {number} von {company}.",
        "receipt": "vielen Dank für Ihre Zahlung. Die Rechnung {number} von {company} ist vollständig bezahlt.",
        "void_notice": "die Rechnung {number} von {company} wurde storniert. Sie müssen sie nicht bezahlen.",
        "reminder": (
            "wir möchten Sie freundlich daran erinnern, dass die Rechnung {number} von {company} noch offen ist."
        ),
        "credit_note": "hiermit erhalten Sie die Gutschrift {number} von {company}. Sie korrigiert die Rechnung {invoice}.",
    },
    greeting="Guten Tag {customer},",
    closing="Mit freundlichen Grüßen",
    payment_instruction=(
        "Bitte überweisen Sie den offenen Betrag auf das unten stehende Konto und geben Sie die "
        "Zahlungsreferenz an, damit Ihre Zahlung automatisch zugeordnet wird."
    ),
    attached={"invoice": "Die Rechnung ist als PDF angehängt.", "credit_note": "Die Gutschrift ist als PDF angehängt."},
    on_page={"invoice": "Sie können die Rechnung auf ihrer Seite ansehen und herunterladen.",
             "credit_note": "Sie können die Gutschrift auf ihrer Seite ansehen und herunterladen."},
    pay_action="Rechnung ansehen und bezahlen",
    view_invoice="Rechnung ansehen",
    view_credit_note="Gutschrift ansehen",
    transfer_heading="Per Überweisung bezahlen",
    payee="Empfänger",
    bic="BIC",
    amount="Betrag",
    qr_caption="Scannen Sie den Code mit Ihrer Banking-App, um per Überweisung zu bezahlen.",
    qr_alt="QR-Code für eine Überweisung von {amount} an {payee}",
    draft="Entwurf",
    number="Rechnungsnummer",
    due_date="Fällig am",
    total="Gesamt",
    amount_paid="Bezahlter Betrag",
    paid_on="Bezahlt am",
    amount_outstanding="Offener Betrag",
    iban="IBAN",
    reference="Zahlungsreferenz",
    credit_note_number="Gutschriftsnummer",
    amount_credited="Gutgeschriebener Betrag",
    refunded="Wird Ihnen erstattet",
    credited_to_balance="Ihrem Guthaben gutgeschrieben",
)

FRENCH = Texts(
    subjects={
        "invoice": "Facture {number} de {company}",
        "receipt": "Reçu pour la facture {number} de {company}",
        "void_notice": "La facture {number} de {company} a été annulée",
        "reminder": "Rappel : facture {number} de {company}",
        "credit_note": "Avoir {number} de {company}",
    },
    intros={
        "invoice": "voici la facture {number} de {company}.",
        "receipt": "merci pour votre paiement. La facture {number} de {company} est entièrement réglée.",
        "void_notice": "la facture {number} de {company} a été annulée. Vous n'avez pas à la payer.",
        "reminder": "nous vous rappelons que la facture {number} de {company} est en attente de paiement.",
        "credit_note": "voici l'avoir {number} de {company}. Il rectifie la facture {invoice}.",
    },
    greeting="Bonjour {customer},",
    closing="Cordialement,",
    payment_instruction=(
        "Veuillez virer le reste à payer sur le compte ci-dessous en indiquant la référence de paiement, "
        "afin que votre paiement soit rapproché automatiquement."
    ),
    attached={"invoice": "La facture est jointe au format PDF.", "credit_note": "L'avoir est joint au format PDF."},
    on_page={"invoice": "Vous pouvez consulter et télécharger la facture sur sa page.",
             "credit_note": "Vous pouvez consulter et télécharger l'avoir sur sa page."},
    pay_action="Consulter et payer la facture",
    view_invoice="Consulter la facture",
    view_credit_note="Consulter l'avoir",
    transfer_heading="Payer par virement",
    payee="Bénéficiaire",
    bic="BIC",
    amount="Montant",
    qr_caption="Scannez le code avec votre application bancaire pour payer par virement.",
    qr_alt="Code QR pour un virement de {amount} à {payee}",
    draft="brouillon",
    number="Numéro de facture",
    due_date="Échéance",
    total="Total",
    amount_paid="Montant payé",
    paid_on="Payée le",
    amount_outstanding="Reste à payer",
    iban="IBAN",
    reference="Référence de paiement",
    credit_note_number="Numéro d'avoir",
    amount_credited="Montant de l'avoir",
    refunded="Remboursé",
    credited_to_balance="Porté à votre crédit",
)

ITALIAN = Texts(
    subjects={
        "invoice": "Fattura {number} da {company}",
        "receipt": "Ricevuta per la fattura {number} da {company}",
        "void_notice": "La fattura {number} da {company} è stata annullata",
        "reminder": "Promemoria: fattura {number} da {company}",
        "credit_note": "Nota di credito {number} da {company}",
    },
    intros={
        "invoice": "le inviamo la fattura {number} da {company}.",
        "receipt": "grazie per il pagamento. La fattura {number} da {company} è stata saldata.",
        "void_notice": "la fattura {number} da {company} è stata annullata. Non è necessario pagarla.",
        "reminder": "le ricordiamo che la fattura {number} da {company} è in attesa di pagamento.",
        "credit_note": "le inviamo la nota di credito {number} da {company}, che rettifica la fattura {invoice}.",
    },
    greeting="Gentile {customer},",
    closing="Cordiali saluti,",
    payment_instruction=(
        "La preghiamo di versare l'importo residuo sul conto indicato di seguito, riportando il "
        "riferimento di pagamento, affinché il pagamento venga abbinato automaticamente."
    ),
    attached={"invoice": "La fattura è allegata in formato PDF.",
              "credit_note": "La nota di credito è allegata in formato PDF."},
    on_page={"invoice": "Può consultare e scaricare la fattura sulla sua pagina.",
             "credit_note": "Può consultare e scaricare la nota di credito sulla sua pagina."},
    pay_action="Visualizza e paga la fattura",
    view_invoice="Visualizza la fattura",
    view_credit_note="Visualizza la nota di credito",
    transfer_heading="Paga con bonifico",
    payee="Beneficiario",
    bic="BIC",
    amount="Importo",
    qr_caption="Scansioni il codice con la sua app bancaria per pagare con bonifico.",
    qr_alt="Codice QR per un bonifico di {amount} a {payee}",
    draft="bozza",
    number="Numero fattura",
    due_date="Scadenza",
    total="Totale",
    amount_paid="Importo pagato",
    paid_on="Pagata il",
    amount_outstanding="Importo residuo",
    iban="IBAN",
    reference="Riferimento di pagamento",
    credit_note_number="Numero nota di credito",
    amount_credited="Importo accreditato",
    refunded="Rimborsato",
    credited_to_balance="Accreditato sul saldo",
)

SPANISH = Texts(
    subjects={
        "invoice": "Factura {number} de {company}",
        "receipt": "Recibo de la factura {number} de {company}",
        "void_notice": "La factura {number} de {company} ha sido anulada",
        "reminder": "Recordatorio: factura {number} de {company}",
        "credit_note": "Nota de abono {number} de {company}",
    },
    intros={
        "invoice": "le enviamos la factura {number} de {company}.",
        "receipt": "gracias por su pago. La factura {number} de {company} está pagada en su totalidad.",
        "void_notice": "la factura {number} de {company} ha sido anulada. No es necesario pagarla.",
        "reminder": "le recordamos que la factura {number} de {company} está pendiente de pago.",
        "credit_note": "le enviamos adjunta la nota de abono {number} de {company}, que rectifica la factura {invoice}.",
    },
    greeting="Hola {customer},",
    closing="Atentamente,",
    payment_instruction=(
        "Transfiera el importe pendiente a la cuenta indicada a continuación con la referencia de pago, "
        "para que su pago se concilie automáticamente."
    ),
    attached={"invoice": "La factura va adjunta en PDF.", "credit_note": "La nota de abono va adjunta en PDF."},
    on_page={"invoice": "Puede consultar y descargar la factura en su página.",
             "credit_note": "Puede consultar y descargar la nota de abono en su página."},
    pay_action="Ver y pagar la factura",
    view_invoice="Ver la factura",
    view_credit_note="Ver la nota de abono",
    transfer_heading="Pagar por transferencia",
    payee="Beneficiario",
    bic="BIC",
    amount="Importe",
    qr_caption="Escanee el código con su aplicación bancaria para pagar por transferencia.",
    qr_alt="Código QR para una transferencia de {amount} a {payee}",
    draft="borrador",
    number="Número de factura",
    due_date="Vencimiento",
    total="Total",
    amount_paid="Importe pagado",
    paid_on="Pagada el",
    amount_outstanding="Importe pendiente",
    iban="IBAN",
    reference="Referencia de pago",
    credit_note_number="Número de abono",
    amount_credited="Importe abonado",
    refunded="Reembolsado",
    credited_to_balance="Abonado a su saldo",
)

BUILT_IN = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "it": ITALIAN, "es": SPANISH}


def texts_for(language: str) -> Texts:
    """Regional variants use their base language (de-CH -> de); anything unknown gets English."""
    return BUILT_IN.get(language.split("-")[0].lower(), ENGLISH)
