//! The journal's French for an audit row's `details`. The rows keep what they stored (the
//! chain covers it, and older rows wrote English): the text is translated when shown, whole
//! or by a template whose variable parts are carried over (or translated in turn). A text
//! no rule knows is shown as stored, never dropped.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::accounts::AccountState;

/// Stored texts, whole, and their French.
#[rustfmt::skip]
const WHOLE: &[(&str, &str)] = &[
    ("signed in", "connexion réussie"),
    ("malformed uid", "identifiant de connexion mal formé"),
    ("unknown uid", "identifiant de connexion inconnu"),
    ("bind refused by the directory", "connexion refusée par l'annuaire"),
    ("blank password", "mot de passe vide"),
    ("no password set", "aucun mot de passe défini pour ce personnel"),
    ("disabled account", "compte de personnel désactivé"),
    ("wrong password", "mot de passe erroné"),
    ("wrong password or unknown uid", "mot de passe erroné ou identifiant inconnu"),
    ("blank identifiant or password", "identifiant ou mot de passe vide"),
    ("throttled", "trop de tentatives : essais suspendus un moment"),
    ("password hashing busy", "serveur trop occupé pour vérifier le mot de passe"),
    ("password hashing busy or failed", "serveur trop occupé pour vérifier le mot de passe"),
    ("directory unavailable", "l'annuaire ne répond pas"),
    ("password sign-in disabled", "connexion par mot de passe désactivée"),
    ("not a staff uid", "identifiant qui n'est pas celui d'un personnel"),
    ("unknown to the staff directory or disabled", "inconnu de l'annuaire des personnels ou désactivé"),
    ("CSRF token missing or invalid", "formulaire expiré ou venu d'un autre site (jeton absent ou invalide)"),
    ("Origin is another site", "demande venue d'un autre site (en-tête Origin)"),
    ("Origin is not the public URL", "demande venue d'une autre adresse que celle du service (en-tête Origin)"),
    ("Sec-Fetch-Site is not same-origin", "demande venue d'un autre site (en-tête Sec-Fetch-Site)"),
    ("parents' gate closed: outside the administrative network, no recent TOTP check", "accès aux responsables fermé : hors du réseau administratif et sans code récent de l'application d'authentification"),
    ("no right on this establishment", "aucun droit sur cet établissement"),
    ("delegate no longer attached to this establishment", "délégataire qui n'est plus rattaché à cet établissement"),
    ("principals only", "réservé à la direction"),
    ("delegation of another scope", "la délégation porte sur un autre droit"),
    ("not allowed on any establishment of the children", "aucun droit sur les établissements des enfants"),
    ("gone from the directory or disabled: session ended", "absent de l'annuaire ou désactivé : session terminée"),
    ("not enrolled", "aucune application d'authentification enregistrée"),
    ("nothing to confirm", "aucun enregistrement à confirmer"),
    ("locked", "vérifications suspendues après trop de codes erronés"),
    ("wrong code", "code erroné"),
    ("wrong first code", "premier code erroné"),
    ("code already used", "code déjà utilisé"),
    ("enrolled", "application d'authentification enregistrée"),
    ("enrolment started", "enregistrement commencé"),
    ("already enrolled", "application d'authentification déjà enregistrée"),
    ("no recent sign-in at the provider", "pas de connexion récente auprès de l'ENT"),
    ("signed in again at the provider (TOTP enrolment)", "nouvelle connexion auprès de l'ENT (enregistrement de l'application d'authentification)"),
    ("the provider named another person", "l'ENT a désigné une autre personne"),
    ("the provider did not ask for the password again", "l'ENT n'a pas redemandé le mot de passe"),
    ("no session awaits this re-authentication (ended, another flow, or another subject)", "aucune session n'attend cette nouvelle connexion (session terminée, autre demande ou autre personne)"),
    ("signed out at the provider (back-channel logout)", "déconnexion demandée par l'ENT"),
    ("signed out at the provider (back-channel logout): no session here", "déconnexion demandée par l'ENT : aucune session ici"),
    ("state missing or wrong", "demande de connexion non reconnue (paramètre state absent ou faux)"),
    ("no ticket", "l'ENT n'a pas transmis de ticket"),
    ("no code", "l'ENT n'a pas transmis de code"),
    ("a parameter given twice", "paramètre donné deux fois"),
    ("CAS answered no", "le CAS a répondu non"),
    ("not a signed JWT", "pas un jeton JWT signé"),
    ("bad signature", "signature invalide"),
    ("blank field", "champ vide"),
    ("malformed birth date", "date de naissance mal formée"),
    ("letter expired", "courrier expiré"),
    ("unknown identifiant", "identifiant inconnu"),
    ("wrong birth date", "date de naissance erronée"),
    ("step token missing, forged, expired or already used", "étape de la première connexion absente, falsifiée, expirée ou déjà utilisée"),
    ("the two new passwords differ", "les deux nouveaux mots de passe diffèrent"),
    ("new password breaks the rule", "le nouveau mot de passe ne respecte pas la règle"),
    ("new password is the provisional one", "le nouveau mot de passe est le mot de passe provisoire"),
    ("provisional password already replaced meanwhile", "mot de passe provisoire déjà remplacé entre-temps"),
    ("activated: own password chosen", "compte activé : mot de passe personnel choisi"),
    ("already revoked", "délégation déjà révoquée"),
    ("revoked", "délégation révoquée"),
    ("expired", "délégation expirée"),
    ("not later", "nouvelle date de fin pas postérieure à l'actuelle"),
    ("longer than a year", "plus d'un an"),
    ("malformed date", "date mal formée"),
    ("same scope already delegated", "ce droit est déjà délégué à ce personnel"),
    ("unknown scope", "droit délégué inconnu"),
    ("no scope", "aucun droit coché"),
    ("end not after start", "date de fin pas postérieure à la date de début"),
    ("end in the past", "date de fin déjà passée"),
    ("start in the past", "date de début déjà passée"),
    ("no grantee", "aucun personnel choisi"),
    ("grantee is the principal himself", "délégation à soi-même"),
    ("grantee unknown", "personnel inconnu de l'annuaire"),
    ("grantee already principal", "personnel déjà membre de la direction"),
    ("grantee not attached", "personnel non rattaché à l'établissement"),
    ("bad motive", "motif invalide"),
    ("attached", "rattachement"),
    ("responsible", "responsabilité d'établissement"),
    ("direction", "fonction de direction"),
];

/// How a template's variable part is shown.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// As stored.
    Kept,
    /// Translated in turn.
    French,
    /// A day `2026-12-02` as `02/12/2026`.
    Day,
    /// A delegation's scope code as its French name.
    Scope,
    /// An account state code as its label.
    State,
}

/// Templates: a stored text's shape and its French, the variable parts marked by the same
/// placeholders in the same order: `{}` carried over, `{fr}` translated in turn, `{day}` a
/// day, `{scope}` a delegation's scope, `{state}` an account's state.
#[rustfmt::skip]
const TEMPLATES: &[(&str, &str)] = &[
    ("not allowed: {fr}", "refusé : {fr}"),
    ("refused: {fr}", "refusé : {fr}"),
    ("{fr} (grantee {})", "{fr} (personnel « {} »)"),
    ("to {} scope {scope} from {day} until {day}", "à {}, droit sur les {scope}, du {day} au {day}"),
    ("until {day} → {day}", "fin repoussée du {day} au {day}"),
    ("{} scope {scope}", "{}, droit sur les {scope}"),
    ("attached: {} → {}; responsible: {} → {}", "rattachements : {} → {} ; direction : {} → {}"),
    ("{} session ended", "{} session terminée"),
    ("{} sessions ended", "{} sessions terminées"),
    ("account not awaiting activation (state {state})", "compte qui n'attend pas d'activation (état « {state} »)"),
    ("logout token: {fr}", "jeton de déconnexion : {fr}"),
    ("ID token: {}", "jeton d'identité : {}"),
    ("token endpoint: {}", "demande de jeton à l'ENT : {}"),
    ("claim {} missing or wrong", "information {} absente ou fausse"),
    ("algorithm {} refused", "algorithme {} refusé"),
    ("identity provider unreachable: {}", "ENT injoignable : {}"),
    ("identity provider answered garbage: {}", "réponse illisible de l'ENT : {}"),
    ("the provider answered {}", "l'ENT a répondu « {} »"),
    ("the CAS answer has no attribute {}", "la réponse du CAS n'a pas l'attribut {}"),
    ("CAS {}", "le CAS a répondu {}"),
    ("establishments={} agents={} pupils={} parents={}", "établissements : {}, personnels : {}, élèves : {}, responsables : {}"),
];

/// The French of stored details; the stored text itself when no rule knows it.
pub fn french_details(stored: &str) -> Cow<'_, str> {
    match translate(stored) {
        Some(french) => Cow::Owned(french),
        None => Cow::Borrowed(stored),
    }
}

/// The French of `stored`, when a rule knows it.
pub fn translate(stored: &str) -> Option<String> {
    if let Some((_, french)) = WHOLE.iter().find(|(en, _)| *en == stored) {
        return Some((*french).to_owned());
    }
    TEMPLATES
        .iter()
        .find_map(|t| apply(*t, stored))
        .or_else(|| listed(stored, ", "))
        .or_else(|| listed(stored, ","))
        .or_else(|| roles(stored))
}

/// A template cut at its placeholders: its fixed pieces (one more than its parts) and
/// its parts.
fn cut(template: &str) -> (Vec<&str>, Vec<Part>) {
    let (mut fixed, mut parts) = (Vec::new(), Vec::new());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        let Some((name, after)) = after.split_once('}') else {
            break;
        };
        fixed.push(before);
        parts.push(Part::named(name));
        rest = after;
    }
    fixed.push(rest);
    (fixed, parts)
}

/// The French of `stored` when it has the shape of `template` (every variable part
/// non-empty and shown).
fn apply((template, french): (&str, &str), stored: &str) -> Option<String> {
    let ((pieces, parts), (french, _)) = (cut(template), cut(french));
    let (first, rest) = pieces.split_first()?;
    let mut text = stored.strip_prefix(first)?;
    let mut out = String::from(*french.first()?);
    for (i, piece) in rest.iter().enumerate() {
        let (value, after) = if i + 1 == rest.len() {
            (text.strip_suffix(piece)?, "")
        } else {
            let at = text.find(piece)?;
            (&text[..at], &text[at + piece.len()..])
        };
        if value.is_empty() {
            return None;
        }
        out.push_str(&parts.get(i)?.show(value)?);
        out.push_str(french.get(i + 1)?);
        text = after;
    }
    Some(out)
}

impl Part {
    fn named(name: &str) -> Self {
        match name {
            "fr" => Part::French,
            "day" => Part::Day,
            "scope" => Part::Scope,
            "state" => Part::State,
            _ => Part::Kept,
        }
    }

    fn show(self, value: &str) -> Option<String> {
        match self {
            Part::Kept => Some(value.to_owned()),
            Part::French => Some(french_details(value).into_owned()),
            Part::Day => Some(
                NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_or_else(|_| value.to_owned(), |d| d.format("%d/%m/%Y").to_string()),
            ),
            Part::Scope => match value {
                "eleves" => Some("élèves".into()),
                "responsables" => Some("responsables".into()),
                _ => None,
            },
            Part::State => Some(
                AccountState::parse(value)
                    .map_or(value, |s| s.label())
                    .to_owned(),
            ),
        }
    }
}

/// A list of known texts (`wrong password, wrong birth date`; `attached,direction`).
fn listed(stored: &str, separator: &str) -> Option<String> {
    if !stored.contains(separator) {
        return None;
    }
    let parts: Option<Vec<String>> = stored
        .split(separator)
        .map(|p| translate(p.trim()))
        .collect();
    parts.map(|p| p.join(", "))
}

/// A staff account's links as the command line writes them: `attached=A,B responsible=C`.
fn roles(stored: &str) -> Option<String> {
    let shown: Option<Vec<String>> = stored
        .split_whitespace()
        .map(|pair| {
            let (role, uais) = pair.split_once('=')?;
            let name = match role {
                "attached" => "rattaché à",
                "responsible" => "responsable de",
                "direction" => "direction de",
                _ => return None,
            };
            Some(format!("{name} {}", uais.replace(',', ", ")))
        })
        .collect();
    shown.filter(|s| !s.is_empty()).map(|s| s.join(" ; "))
}

#[cfg(test)]
#[path = "details_fr_tests.rs"]
mod tests;
