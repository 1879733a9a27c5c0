"""The wording of the notice an account gets when a mail of its invoices was not delivered, in the
platform's five languages (the customer's mails have theirs in translations).

Format fields: `number` (the invoice's, or the credit note's), `company`, `customer`, `address`,
`diagnostic` (what the relay or the renderer said, already quoted). A typed dataclass, so a
language missing a text fails at import time.
"""

from dataclasses import dataclass
from typing import Literal

from contracts.messages.mail import MailKind

# Why a recipient did not get a mail: refused for good (5xx), refused for now (4xx) on every
# attempt, suppressed when queued, or its document never rendered.
Why = Literal["bounced", "gave_up", "suppressed", "document_failed"]


@dataclass(frozen=True)
class NoticeTexts:
    subject: str
    greeting: str
    mails: dict[MailKind, str]  # which mail was not delivered: "invoice {number}", ...
    intro: str  # {mail}: one of `mails`
    reasons: dict[Why, str]
    advice: dict[Why, str]
    footer: str


ENGLISH = NoticeTexts(
    subject="Not delivered: {mail} to {customer}",
    greeting="Hello,",
    mails={
        "invoice": "invoice {number}",
        "receipt": "the receipt for invoice {number}",
        "void_notice": "the void notice of invoice {number}",
        "reminder": "the reminder of invoice {number}",
        "credit_note": "credit note {number}",
    },
    intro="The email with {mail} for {customer} was not delivered to these addresses:",
    reasons={
        "bounced": "{address}: refused for good by the receiving server, which said {diagnostic}",
        "gave_up": "{address}: still refused after every attempt; the receiving server last said {diagnostic}",
        "suppressed": "{address}: not sent, because the address bounced before and is suppressed",
        "document_failed": "{address}: not sent, because the document could not be rendered: {diagnostic}",
    },
    advice={
        "bounced": "Check the address with {customer}. If it is wrong, correct the customer's email address and "
                   "send again. If it is right (the mailbox was full, or has been fixed since), lift its "
                   "suppression with `invoicing mail unsuppress {address}` and send again.",
        "gave_up": "The address may be right: send again later. If it keeps failing, check it with {customer}.",
        "suppressed": "If the address works again, lift its suppression with `invoicing mail unsuppress {address}` "
                      "and send again; otherwise correct the customer's email address and send again.",
        "document_failed": "Nothing is wrong with the address: send again later, and tell the platform's operators "
                           "if it keeps failing.",
    },
    footer="This notice was sent to {company} only; {customer} did not receive it.",
)

GERMAN = NoticeTexts(
    subject="Nicht zugestellt: {mail} an {customer}",
    greeting="Guten Tag,",
    mails={
        "invoice": "Rechnung {number}",
        "receipt": "die Zahlungsbestätigung für Rechnung {number}",
        "void_notice": "die Stornierung der Rechnung {number}",
        "reminder": "die Zahlungserinnerung für Rechnung {number}",
        "credit_note": "Gutschrift {number}",
    },
    intro="Die E-Mail mit {mail} für {customer} wurde an diese Adressen nicht zugestellt:",
    reasons={
        "bounced": "{address}: vom empfangenden Server endgültig abgelehnt, mit der Meldung {diagnostic}",
        "gave_up": "{address}: nach allen Versuchen weiter abgelehnt; zuletzt meldete der Server {diagnostic}",
        "suppressed": "{address}: nicht gesendet, weil die Adresse schon früher unzustellbar war und gesperrt ist",
        "document_failed": "{address}: nicht gesendet, weil das Dokument nicht erstellt werden konnte: {diagnostic}",
    },
    advice={
        "bounced": "Prüfen Sie die Adresse mit {customer}. Ist sie falsch, korrigieren Sie die E-Mail-Adresse des "
                   "Kunden und senden Sie erneut. Ist sie richtig (das Postfach war voll oder wurde inzwischen "
                   "repariert), heben Sie die Sperre mit `invoicing mail unsuppress {address}` auf und senden Sie "
                   "erneut.",
        "gave_up": "Die Adresse kann richtig sein: Senden Sie später erneut. Scheitert es weiter, prüfen Sie sie "
                   "mit {customer}.",
        "suppressed": "Funktioniert die Adresse wieder, heben Sie die Sperre mit `invoicing mail unsuppress "
                      "{address}` auf und senden Sie erneut; sonst korrigieren Sie die E-Mail-Adresse des Kunden "
                      "und senden Sie erneut.",
        "document_failed": "An der Adresse liegt es nicht: Senden Sie später erneut, und wenden Sie sich an den "
                           "Betreiber der Plattform, wenn es weiter scheitert.",
    },
    footer="Diese Mitteilung ging nur an {company}; {customer} hat sie nicht erhalten.",
)

FRENCH = NoticeTexts(
    subject="Non distribué : {mail} à {customer}",
    greeting="Bonjour,",
    mails={
        "invoice": "la facture {number}",
        "receipt": "le reçu de la facture {number}",
        "void_notice": "l'annulation de la facture {number}",
        "reminder": "le rappel de la facture {number}",
        "credit_note": "l'avoir {number}",
    },
    intro="L'e-mail contenant {mail} pour {customer} n'a pas été distribué à ces adresses :",
    reasons={
        "bounced": "{address} : refusé définitivement par le serveur destinataire, qui a répondu {diagnostic}",
        "gave_up": "{address} : toujours refusé après toutes les tentatives ; le serveur a répondu en dernier "
                   "{diagnostic}",
        "suppressed": "{address} : non envoyé, car l'adresse a déjà été rejetée et elle est bloquée",
        "document_failed": "{address} : non envoyé, car le document n'a pas pu être produit : {diagnostic}",
    },
    advice={
        "bounced": "Vérifiez l'adresse auprès de {customer}. Si elle est fausse, corrigez l'adresse e-mail du client "
                   "et envoyez de nouveau. Si elle est juste (la boîte était pleine, ou a été réparée depuis), "
                   "levez son blocage avec `invoicing mail unsuppress {address}` et envoyez de nouveau.",
        "gave_up": "L'adresse est peut-être juste : envoyez de nouveau plus tard. Si l'échec persiste, vérifiez-la "
                   "auprès de {customer}.",
        "suppressed": "Si l'adresse fonctionne de nouveau, levez son blocage avec `invoicing mail unsuppress "
                      "{address}` et envoyez de nouveau ; sinon corrigez l'adresse e-mail du client et envoyez de "
                      "nouveau.",
        "document_failed": "L'adresse n'y est pour rien : envoyez de nouveau plus tard, et prévenez les opérateurs "
                           "de la plateforme si l'échec persiste.",
    },
    footer="Cet avis a été envoyé à {company} seulement ; {customer} ne l'a pas reçu.",
)

ITALIAN = NoticeTexts(
    subject="Non recapitata: {mail} a {customer}",
    greeting="Buongiorno,",
    mails={
        "invoice": "la fattura {number}",
        "receipt": "la ricevuta della fattura {number}",
        "void_notice": "l'annullamento della fattura {number}",
        "reminder": "il sollecito della fattura {number}",
        "credit_note": "la nota di credito {number}",
    },
    intro="L'e-mail con {mail} per {customer} non è stata recapitata a questi indirizzi:",
    reasons={
        "bounced": "{address}: rifiutata definitivamente dal server destinatario, che ha risposto {diagnostic}",
        "gave_up": "{address}: ancora rifiutata dopo tutti i tentativi; l'ultima risposta del server è stata "
                   "{diagnostic}",
        "suppressed": "{address}: non inviata, perché l'indirizzo è già stato respinto ed è bloccato",
        "document_failed": "{address}: non inviata, perché non è stato possibile generare il documento: {diagnostic}",
    },
    advice={
        "bounced": "Verifichi l'indirizzo con {customer}. Se è sbagliato, corregga l'indirizzo e-mail del cliente e "
                   "invii di nuovo. Se è giusto (la casella era piena, o è stata sistemata), tolga il blocco con "
                   "`invoicing mail unsuppress {address}` e invii di nuovo.",
        "gave_up": "L'indirizzo può essere giusto: invii di nuovo più tardi. Se continua a non riuscire, lo verifichi "
                   "con {customer}.",
        "suppressed": "Se l'indirizzo funziona di nuovo, tolga il blocco con `invoicing mail unsuppress {address}` e "
                      "invii di nuovo; altrimenti corregga l'indirizzo e-mail del cliente e invii di nuovo.",
        "document_failed": "L'indirizzo non c'entra: invii di nuovo più tardi, e avvisi i gestori della piattaforma se "
                           "continua a non riuscire.",
    },
    footer="Questo avviso è stato inviato solo a {company}; {customer} non l'ha ricevuto.",
)

SPANISH = NoticeTexts(
    subject="No entregado: {mail} a {customer}",
    greeting="Hola:",
    mails={
        "invoice": "la factura {number}",
        "receipt": "el recibo de la factura {number}",
        "void_notice": "la anulación de la factura {number}",
        "reminder": "el recordatorio de la factura {number}",
        "credit_note": "la factura rectificativa {number}",
    },
    intro="El correo con {mail} para {customer} no se entregó a estas direcciones:",
    reasons={
        "bounced": "{address}: rechazado definitivamente por el servidor de destino, que respondió {diagnostic}",
        "gave_up": "{address}: rechazado todavía tras todos los intentos; el servidor respondió por última vez "
                   "{diagnostic}",
        "suppressed": "{address}: no enviado, porque la dirección ya fue rechazada antes y está bloqueada",
        "document_failed": "{address}: no enviado, porque no se pudo generar el documento: {diagnostic}",
    },
    advice={
        "bounced": "Compruebe la dirección con {customer}. Si es incorrecta, corrija la dirección de correo del "
                   "cliente y envíe de nuevo. Si es correcta (el buzón estaba lleno o ya se ha arreglado), quite el "
                   "bloqueo con `invoicing mail unsuppress {address}` y envíe de nuevo.",
        "gave_up": "La dirección puede ser correcta: envíe de nuevo más tarde. Si sigue fallando, compruébela con "
                   "{customer}.",
        "suppressed": "Si la dirección vuelve a funcionar, quite el bloqueo con `invoicing mail unsuppress "
                      "{address}` y envíe de nuevo; si no, corrija la dirección de correo del cliente y envíe de "
                      "nuevo.",
        "document_failed": "La dirección no tiene la culpa: envíe de nuevo más tarde y avise a los operadores de la "
                           "plataforma si sigue fallando.",
    },
    footer="Este aviso se envió solo a {company}; {customer} no lo recibió.",
)

NOTICE_TEXTS = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "it": ITALIAN, "es": SPANISH}
