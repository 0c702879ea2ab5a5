//! Synthetic SIECLE exports (fictitious people) for tests and benchmarks: no real personal
//! data is ever committed.

use std::fmt::Write;

/// Options of a generated export.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub uai: String,
    pub year: String,
    pub pupils: usize,
    /// ISO-8859-15 instead of UTF-8.
    pub latin9: bool,
    /// Ids as child elements instead of attributes.
    pub ids_as_elements: bool,
    /// Pupil numbers (from 0) that left (`DATE_SORTIE`).
    pub leavers: Vec<usize>,
    /// Shift of the pupil numbers (a second year: newcomers, some gone).
    pub first: usize,
}

const LAST: &[&str] = &[
    "Lefèvre",
    "N'Diaye",
    "Martin-Dubois",
    "Müller",
    "Da Silva",
    "Œuvray",
    "Zoëlle",
    "Le Gall",
    "Garcia",
    "Nguyễn",
];
const FIRST: &[&str] = &[
    "Zoë",
    "Jean-Baptiste",
    "Anaïs",
    "Noé",
    "Éloïse",
    "Maël",
    "Inès",
    "Côme",
    "Léa",
    "Timothée",
];

fn id_attr(sy: &Synthetic, name: &str, value: &str) -> (String, String) {
    if sy.ids_as_elements {
        (String::new(), format!("<{name}>{value}</{name}>"))
    } else {
        (format!(" {name}=\"{value}\""), String::new())
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

/// Pupil number `i`'s names (deterministic).
pub fn names(i: usize) -> (String, String) {
    (
        format!("{} {}", LAST[i % LAST.len()], i / LAST.len()),
        FIRST[(i / 7) % FIRST.len()].to_owned(),
    )
}

fn encode(sy: &Synthetic, text: String) -> Vec<u8> {
    if sy.latin9 {
        encoding_rs::ISO_8859_15.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    }
}

fn decl(sy: &Synthetic) -> &'static str {
    if sy.latin9 {
        "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n"
    } else {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    }
}

/// `ElevesSansAdresses.xml`
pub fn pupils_xml(sy: &Synthetic) -> Vec<u8> {
    let mut x = String::from(decl(sy));
    let _ = write!(
        x,
        "<BEE_ELEVES VERSION=\"3.1\">\n<PARAMETRES><UAJ>{}</UAJ><ANNEE_SCOLAIRE>{}</ANNEE_SCOLAIRE></PARAMETRES>\n<DONNEES>\n<ELEVES>\n",
        sy.uai, sy.year
    );
    for i in sy.first..sy.first + sy.pupils {
        let (last, first) = names(i);
        let (attr, elem) = id_attr(sy, "ELEVE_ID", &format!("{}", 100_000 + i));
        let ine = if i % 50 == 49 {
            String::new()
        } else {
            format!("<ID_NATIONAL>{:09}AB</ID_NATIONAL>", 100_000_000 + i)
        };
        let left = if sy.leavers.contains(&i) {
            "<DATE_SORTIE>15/10/2026</DATE_SORTIE>"
        } else {
            ""
        };
        let _ = writeln!(
            x,
            "<ELEVE{attr}>{elem}{ine}<NOM_DE_FAMILLE>{}</NOM_DE_FAMILLE><PRENOM>{}</PRENOM><DATE_NAISS>{:02}/{:02}/{}</DATE_NAISS>{left}</ELEVE>",
            escape(&last),
            escape(&first),
            1 + i % 28,
            1 + i % 12,
            2010 + i % 5
        );
    }
    x.push_str("</ELEVES>\n<STRUCTURES>\n");
    for i in sy.first..sy.first + sy.pupils {
        let (attr, elem) = id_attr(sy, "ELEVE_ID", &format!("{}", 100_000 + i));
        let _ = writeln!(
            x,
            "<STRUCTURES_ELEVE{attr}>{elem}<STRUCTURE><CODE_STRUCTURE>{}{}</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE><STRUCTURE><CODE_STRUCTURE>LATIN</CODE_STRUCTURE><TYPE_STRUCTURE>G</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>",
            6 - (i % 4),
            ["A", "B", "C", "D", "E"][(i / 4) % 5]
        );
    }
    x.push_str("</STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n");
    encode(sy, x)
}

/// `ResponsablesAvecAdresses.xml`: two legal guardians per pupil (siblings share theirs every
/// tenth pupil), plus a non-legal contact (RESP_LEGAL 0) and a duplicate link now and then.
pub fn guardians_xml(sy: &Synthetic) -> Vec<u8> {
    let mut x = String::from(decl(sy));
    let _ = write!(
        x,
        "<BEE_RESPONSABLES VERSION=\"3.1\">\n<PARAMETRES><UAJ>{}</UAJ><ANNEE_SCOLAIRE>{}</ANNEE_SCOLAIRE></PARAMETRES>\n<DONNEES>\n<PERSONNES>\n",
        sy.uai, sy.year
    );
    let family = |i: usize| if i % 10 == 1 { i - 1 } else { i };
    let mut persons = std::collections::BTreeSet::new();
    for i in sy.first..sy.first + sy.pupils {
        let f = family(i);
        for k in 0..3 {
            persons.insert((f, k));
        }
    }
    for (f, k) in &persons {
        let (last, _) = names(*f);
        let (attr, elem) = id_attr(sy, "PERSONNE_ID", &format!("{}", 500_000 + f * 3 + k));
        let first = ["Nathalie", "Stéphane", "Mamie"][*k];
        let _ = writeln!(
            x,
            "<PERSONNE{attr}>{elem}<NOM_DE_FAMILLE>{}</NOM_DE_FAMILLE><PRENOM>{first}</PRENOM><TEL_PORTABLE>06 {:02} {:02} {:02} {:02}</TEL_PORTABLE><MEL>parent{}@exemple.fr</MEL></PERSONNE>",
            escape(&last),
            f % 100,
            k,
            f % 7,
            f % 13,
            f * 3 + k
        );
    }
    x.push_str("</PERSONNES>\n<RESPONSABLES>\n");
    for i in sy.first..sy.first + sy.pupils {
        let f = family(i);
        for (k, legal) in [(0, 1), (1, 2), (2, 0)] {
            let _ = writeln!(
                x,
                "<RESPONSABLE_ELEVE><ELEVE_ID>{}</ELEVE_ID><PERSONNE_ID>{}</PERSONNE_ID><RESP_LEGAL>{legal}</RESP_LEGAL></RESPONSABLE_ELEVE>",
                100_000 + i,
                500_000 + f * 3 + k
            );
        }
        if i % 97 == 0 {
            let _ = writeln!(
                x,
                "<RESPONSABLE_ELEVE><ELEVE_ID>{}</ELEVE_ID><PERSONNE_ID>{}</PERSONNE_ID><RESP_LEGAL>1</RESP_LEGAL></RESPONSABLE_ELEVE>",
                100_000 + i,
                500_000 + f * 3
            );
        }
    }
    x.push_str("</RESPONSABLES>\n</DONNEES>\n</BEE_RESPONSABLES>\n");
    encode(sy, x)
}
