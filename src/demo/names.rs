//! Realistic French names for the demo: accents, hyphens, apostrophes, compound surnames.

pub const GIRLS: &[&str] = &[
    "Zoë", "Chloé", "Inès", "Léa", "Manon", "Camille", "Anaïs", "Éloïse", "Gaëlle", "Noémie",
    "Maëlys", "Jade", "Louise", "Emma", "Lina", "Romane", "Clémence", "Océane", "Héloïse", "Ambre",
    "Marie-Lou", "Anne-Sophie", "Yasmine", "Aïcha", "Fatoumata", "Léonie", "Agathe", "Margaux",
    "Salomé", "Thaïs", "Capucine", "Juliette", "Nour", "Maëlle", "Lou", "Candice",
];

pub const BOYS: &[&str] = &[
    "Jean-Baptiste", "Maël", "Noé", "Léo", "Hugo", "Lucas", "Théo", "Raphaël", "Gabriel", "Arthur",
    "Louis", "Jules", "Adam", "Mathis", "Enzo", "Nathan", "Timothée", "Clément", "Benoît", "Joël",
    "Anaël", "Yanis", "Ibrahim", "Mamadou", "Loïc", "Gaël", "Jérémie", "Sacha", "Côme", "Éthan",
    "Pierre-Louis", "Aurélien", "Mathéo", "Baptiste", "Rayan", "Karim",
];

pub const ADULT_FIRST_NAMES: &[&str] = &[
    "Nathalie", "Stéphane", "Sébastien", "Céline", "Frédéric", "Valérie", "Hélène", "Jérôme",
    "Isabelle", "François", "Sandrine", "Grégory", "Aurélie", "Olivier", "Émilie", "Rachid",
    "Karima", "Jean-Marc", "Marie-Hélène", "Mélanie", "Thierry", "Sophie", "Laurent", "Nadia",
];

pub const SURNAMES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller",
    "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
    "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer",
    "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer",
    "Lucas", "Meunier", "Jean", "Pérez", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun",
    "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud",
    "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine",
    "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier",
    "N'Diaye", "D'Almeida", "O'Connor", "Le Gall", "Le Goff", "De La Fontaine", "Da Silva",
    "Martin-Dubois", "Lefèvre-Pontalis", "Saint-Exupéry", "Benoît-Guyod", "Cœurdevey", "Bœuf",
    "Müller", "Ben Saïd", "Traoré", "Diallo", "Haddad", "Khelifi", "Nguyễn", "Pham", "Kowalski",
    "Dos Santos", "Van der Berg", "L'Hermitte", "Mac Leod", "Étienne", "Éluard", "Bézier",
];
