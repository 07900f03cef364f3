"""The report's words, in French (the default: the recipient is the CNIL) and English."""

from __future__ import annotations

__all__ = ["SECTIONS", "STRINGS", "VALUES"]

# the registers' codes, in French (English shows the codes as they are)
VALUES = {"fr": {
    "granted": "donné", "given": "donné", "refused": "refusé", "withdrawn": "retiré",
    "expired": "expiré", "none": "aucun", "open": "ouverte", "extended": "prolongée",
    "fulfilled": "satisfaite", "active": "active", "due": "à échéance",
    "overdue": "en retard", "held": "gel légal", "erased": "effacée",
    "anonymised": "anonymisée", "on_time": "dans les délais",
    "late_with_reason": "en retard, motif donné", "pending": "délai en cours",
    "not_required": "non requise (risque improbable, art. 33(1))",
    "unlikely": "risque improbable", "risk": "risque", "high_risk": "risque élevé",
    "confidentiality": "confidentialité", "integrity": "intégrité",
    "availability": "disponibilité", "individual": "individuelle", "public": "publique",
    "access": "accès", "rectification": "rectification", "erasure": "effacement",
    "restriction": "limitation", "portability": "portabilité", "objection": "opposition",
    "internal": "interne", "processor": "sous-traitant", "third_party": "tiers",
    "consent": "consentement", "contract": "contrat", "legal_obligation":
    "obligation légale", "legitimate_interests": "intérêt légitime",
}, "en": {}}

SECTIONS = {
    "fr": ["Périmètre, méthode et intégrité", "Registre des traitements (art. 30) et "
           "informations fournies", "Consentement (art. 7)", "Collecte et conservation",
           "Demandes d'exercice des droits (art. 12 à 22)",
           "Violations de données (art. 33 et 34)", "Destinataires, communications et "
           "transferts", "Consultations des données personnelles"],
    "en": ["Scope, method and integrity", "Record of processing (Art. 30) and notices",
           "Consent (Art. 7)", "Collection and retention", "Rights requests (Art. 12 to 22)",
           "Personal data breaches (Art. 33 and 34)", "Recipients, disclosures and transfers",
           "Reads of personal data"],
}

_FR = {
    "lang": "fr",
    "title": "Réponse à la demande de la CNIL", "kicker": "Dossier de contrôle",
    "reference": "Référence", "controller": "Responsable du traitement", "period": "Période",
    "as_of": "Registres à la date du", "known_at": "connus au",
    "purposes_in_scope": "Finalités", "generated": "Établi le",
    "zone_note": "heures de {zone}, décalage indiqué", "toc": "Sommaire",
    "evidence_index": "Index des preuves", "out_of_scope": "hors périmètre",
    "data_table": "Données du graphique", "question": "Question :", "answer": "Réponse :",
    "evidence": "Preuves :",
    "q1": "Sur quoi porte ce dossier, comment a-t-il été établi, et les registres sont-ils "
          "intègres ?",
    "method": "Chaque chiffre de ce rapport est lu dans les registres du journal, puis "
              "recompté à partir des entrées du dossier de preuves (figures.json) par "
              "« ledger verify --inquiry ». Chaque événement cité renvoie à son numéro "
              "(seq), son empreinte et sa preuve d'inclusion.",
    "chain_ok": "La chaîne des entrées a été vérifiée : aucune entrée modifiée, retirée, "
                "réordonnée ou antidatée",
    "chain_bad": "ATTENTION : la vérification de la chaîne a échoué",
    "entries_range": "entrées {first} à {last}, {n} entrée(s)",
    "anchored": "Le rapport est ancré au point de contrôle signé de taille {size}, racine",
    "signature": "Signature Ed25519 vérifiée avec la clé {key}",
    "consistency": "{n} point(s) de contrôle du dossier [est|sont] cohérent(s) avec les entrées "
                   "(chaque racine recalculée)",
    "completeness": "Le dossier commence à l'entrée {first}, enregistrée avant {margin} : "
                    "aucune entrée antérieure ne peut concerner la période",
    "completeness_all": "Le dossier contient toutes les entrées du journal depuis la "
                        "première",
    "left_out_title": "Ce que le dossier ne contient pas, et pourquoi",
    "left_out_subjects": "Minimisation : {n} ligne(s) concerne(nt) des personnes hors du "
                         "périmètre demandé ; elles sont comptées sans référence à la "
                         "personne",
    "left_out_rows": "{n} ligne(s) au-delà des tableaux du rapport figure(nt) seulement "
                     "dans les tableurs",
    "left_out_values": "Aucune donnée personnelle en clair : les valeurs ne sont "
                       "montrées qu'avec --reveal, pour les personnes du périmètre",
    "revealed_values": "Valeurs personnelles montrées pour les personnes du périmètre "
                       "(--reveal) ; cette consultation est inscrite au journal avec la "
                       "référence de la demande pour motif",
    "left_out_bundle": "Le dossier de preuves contient les entrées telles qu'enregistrées "
                       "(pseudonymes et valeurs chiffrées, illisibles sans les clés du "
                       "responsable) : elles sont nécessaires pour vérifier la chaîne",
    "q2": "Quelles finalités, bases légales, données, destinataires et durées ; quelles "
          "versions de la politique étaient en vigueur ; quels textes ont été montrés ?",
    "no_policy": "Aucune politique n'était en vigueur à la fin de la période (ou connue "
                 "à la date demandée).",
    "version": "Version", "in_force_from": "En vigueur depuis", "until": "Jusqu'au",
    "digest": "Empreinte SHA-256", "purpose": "Finalité", "legal_basis": "Base légale",
    "categories": "Catégories", "recipients": "Destinataires", "seen": "Observé",
    "seen_text": "{c} collecte(s), {d} communication(s)",
    "notices": "Textes d'information et de recueil montrés", "no_notice":
    "Aucun texte publié n'est cité par les choix de la période.",
    "q3": "Quels choix ont été faits sur la période, et pour chaque personne du périmètre, "
          "quelle est la preuve du consentement (art. 7(1)) et qu'est-il advenu après un "
          "retrait ?",
    "given": "Donnés", "refused": "Refusés", "withdrawn": "Retirés", "expired": "Expirés",
    "subjects": "Personnes", "choices_of": "Les choix pour {purpose} ({n})", "when": "Date",
    "choice": "Choix", "method_col": "Mode", "notice": "Texte", "subject": "Personne",
    "subjects_in_scope": "Personnes du périmètre",
    "no_subject": "Aucune personne n'est désignée par la demande (--subject).",
    "unknown_subject": "Le journal ne contient aucune entrée sur cette personne.",
    "after_withdrawal": "Données collectées et leur sort (après un retrait, la conservation "
                        "se termine selon la politique) :",
    "category": "Catégorie", "status": "État", "deadline": "Échéance", "ended": "Fin",
    "revealed_title": "Valeurs (montrées avec --reveal)", "type": "Type", "values": "Valeurs",
    "q4": "Qu'a-t-on collecté, par catégorie ; qu'est-ce qui a dépassé sa durée de "
          "conservation ; les effacements et anonymisations ont-ils été faits à temps ; "
          "quelles suspensions (gel légal) ?",
    "collected": "Collecté", "none": "aucun",
    "ret_overdue": "Au-delà de l'échéance, non effacé", "ret_ended":
    "Effacé ou anonymisé sur la période", "ret_held": "Sous gel légal",
    "on_time": "à temps", "late": "en retard",
    "q5": "Quelles demandes ont été reçues, quand étaient-elles dues, quand ont-elles reçu "
          "réponse, lesquelles en retard et pourquoi ?",
    "requests_summary": "{n} demande(s) reçue(s) sur la période, dont {late} en retard.",
    "request": "Demande", "right": "Droit", "received": "Reçue", "due": "Due le",
    "answered": "Réponse", "reason": "Motif",
    "q6": "Quelles violations, notifiées dans les 72 heures ou avec quel motif de retard, "
          "avec quelles informations (art. 33(3)), communiquées aux personnes (art. 34) ?",
    "breaches_summary": "{n} violation(s) constatée(s) sur la période.",
    "b_nature": "Nature de la violation", "b_description": "Description",
    "b_discovered": "Date de prise de connaissance", "b_notified": "Notification à l'autorité",
    "b_clock": "{h} h après la prise de connaissance (délai {allowed} h, échéance {deadline})",
    "b_delay": "Motif du retard", "b_missing": "Éléments de l'art. 33(3) manquants",
    "b_communicated": "Communication aux personnes (art. 34)",
    "a33_categories_of_subjects": "Catégories de personnes concernées",
    "a33_approx_subjects": "Nombre approximatif de personnes",
    "a33_categories_of_records": "Catégories d'enregistrements",
    "a33_approx_records": "Nombre approximatif d'enregistrements",
    "a33_dpo_contact": "Contact du DPO", "a33_likely_consequences": "Conséquences probables",
    "a33_measures": "Mesures prises ou envisagées",
    "q7": "À qui les données ont-elles été communiquées, et lesquelles sont sorties de "
          "l'EEE ?",
    "disclosures_summary": "{n} communication(s) sur la période, dont {out} hors EEE.",
    "recipient": "Destinataire", "kind": "Nature", "country": "Pays",
    "safeguard": "Garantie", "outside_eea": "hors EEE",
    "q8": "Qui a consulté des données personnelles, quand et pourquoi ?",
    "accesses_summary": "{n} consultation(s) enregistrée(s) sur la période.",
    "actor": "Par", "reads": "Consultations", "view": "Vue",
    "index_intro": "Chaque événement cité dans le rapport : son numéro, son empreinte, et "
                   "sa preuve d'inclusion dans evidence/proofs.jsonl (ligne), vérifiable "
                   "contre evidence/checkpoint.txt.",
    "proof": "Preuve", "choices": "Choix",
    "timeline_alt": "Choix de consentement par jour sur {days} jour(s) : {given} donné(s), "
                    "{refused} refusé(s), {withdrawn} retiré(s).",
    "requests_n": "Demandes",
    "day": "Jour", "taken": "Jours pris", "days": "Jours", "requests_alt":
    "Jours pris pour répondre à {n} demande(s), comparés à l'échéance ; {late} en retard.",
}

_EN = {
    "lang": "en",
    "title": "Answer to the CNIL's inquiry", "kicker": "Inquiry pack",
    "reference": "Reference", "controller": "Controller", "period": "Period",
    "as_of": "Registers as of", "known_at": "as known at",
    "purposes_in_scope": "Purposes", "generated": "Generated",
    "zone_note": "times in {zone}, offset shown", "toc": "Contents",
    "evidence_index": "Evidence index", "out_of_scope": "out of scope",
    "data_table": "Chart data", "question": "Question:", "answer": "Answer:",
    "evidence": "Evidence:",
    "q1": "What does this pack cover, how was it made, and are the records intact?",
    "method": "Every figure of this report is read from the ledger's registers, then "
              "recounted from the pack's evidence entries (figures.json) by "
              "`ledger verify --inquiry`. Every cited event links to its seq, hash and "
              "inclusion proof.",
    "chain_ok": "The chain of entries was verified: no entry altered, removed, reordered "
                "or back-dated",
    "chain_bad": "WARNING: the chain verification failed",
    "entries_range": "entries {first} to {last}, {n} [entry|entries]",
    "anchored": "The report is anchored to the signed checkpoint of size {size}, root",
    "signature": "Ed25519 signature verified with the key {key}",
    "consistency": "{n} checkpoint(s) of the pack [agrees|agree] with the entries (each root "
                   "recomputed)",
    "completeness": "The pack starts at entry {first}, recorded before {margin}: no "
                    "earlier entry can concern the period",
    "completeness_all": "The pack holds every entry of the ledger from the first one on",
    "left_out_title": "What the pack leaves out, and why",
    "left_out_subjects": "Minimisation: {n} row(s) [is|are] about people outside the scope "
                         "asked for; they are counted with no reference to the person",
    "left_out_rows": "{n} row(s) beyond the report's tables [is|are] in the spreadsheets only",
    "left_out_values": "No personal value in clear: values are shown only with --reveal, "
                       "for the subjects in scope",
    "revealed_values": "Personal values shown for the subjects in scope (--reveal); this "
                       "read is recorded in the ledger with the inquiry's reference as "
                       "its reason",
    "left_out_bundle": "The evidence holds the entries as stored (pseudonyms and sealed "
                       "values, unreadable without the controller's keys): they are needed "
                       "to verify the chain",
    "q2": "Which purposes, legal bases, data, recipients and retention periods; which "
          "policy versions were in force; which texts were shown?",
    "no_policy": "No policy was in force at the end of the period (or known at the time "
                 "asked).",
    "version": "Version", "in_force_from": "In force from", "until": "Until",
    "digest": "SHA-256 digest", "purpose": "Purpose", "legal_basis": "Legal basis",
    "categories": "Categories", "recipients": "Recipients", "seen": "Seen",
    "seen_text": "{c} collection(s), {d} disclosure(s)",
    "notices": "Notices and consent texts shown", "no_notice":
    "No published text is cited by the period's choices.",
    "q3": "Which choices were made over the period, and for each subject in scope, what "
          "proves the consent (Art. 7(1)) and what happened after a withdrawal?",
    "given": "Given", "refused": "Refused", "withdrawn": "Withdrawn", "expired": "Expired",
    "subjects": "Subjects", "choices_of": "The choices for {purpose} ({n})", "when": "When",
    "choice": "Choice", "method_col": "Method", "notice": "Text", "subject": "Subject",
    "subjects_in_scope": "Subjects in scope",
    "no_subject": "The inquiry names no subject (--subject).",
    "unknown_subject": "The ledger holds no entry about this subject.",
    "after_withdrawal": "Data collected and what became of it (after a withdrawal, "
                        "retention ends as the policy says):",
    "category": "Category", "status": "Status", "deadline": "Deadline", "ended": "Ended",
    "revealed_title": "Values (shown with --reveal)", "type": "Type", "values": "Values",
    "q4": "What was collected, per category; what went past its retention deadline; were "
          "erasures and anonymisations on time; which legal holds?",
    "collected": "Collected", "none": "none",
    "ret_overdue": "Past the deadline, not erased", "ret_ended":
    "Erased or anonymised in the period", "ret_held": "Under a legal hold",
    "on_time": "on time", "late": "late",
    "q5": "Which requests were received, when were they due, when answered, which late "
          "and why?",
    "requests_summary": "{n} request(s) received in the period, {late} late.",
    "request": "Request", "right": "Right", "received": "Received", "due": "Due",
    "answered": "Answered", "reason": "Reason",
    "q6": "Which breaches, notified within 72 hours or with which reason for the delay, "
          "with which Art. 33(3) items, communicated to the people (Art. 34)?",
    "breaches_summary": "{n} breach(es) detected in the period.",
    "b_nature": "Nature of the breach", "b_description": "Description",
    "b_discovered": "Became aware", "b_notified": "Notified to the authority",
    "b_clock": "{h} h after becoming aware (allowed {allowed} h, deadline {deadline})",
    "b_delay": "Reason for the delay", "b_missing": "Art. 33(3) items missing",
    "b_communicated": "Communicated to the people (Art. 34)",
    "a33_categories_of_subjects": "Categories of subjects",
    "a33_approx_subjects": "Approximate number of subjects",
    "a33_categories_of_records": "Categories of records",
    "a33_approx_records": "Approximate number of records",
    "a33_dpo_contact": "DPO contact", "a33_likely_consequences": "Likely consequences",
    "a33_measures": "Measures taken or proposed",
    "q7": "To whom were data disclosed, and which left the EEA?",
    "disclosures_summary": "{n} disclosure(s) in the period, {out} outside the EEA.",
    "recipient": "Recipient", "kind": "Kind", "country": "Country",
    "safeguard": "Safeguard", "outside_eea": "outside the EEA",
    "q8": "Who read personal data, when and why?",
    "accesses_summary": "{n} read(s) recorded in the period.",
    "actor": "By", "reads": "Reads", "view": "View",
    "index_intro": "Every event the report cites: its seq, its hash, and its inclusion "
                   "proof in evidence/proofs.jsonl (line), checked against "
                   "evidence/checkpoint.txt.",
    "proof": "Proof", "choices": "Choices",
    "timeline_alt": "Consent choices per day over {days} day(s): {given} given, "
                    "{refused} refused, {withdrawn} withdrawn.",
    "requests_n": "Requests",
    "day": "Day", "taken": "Days taken", "days": "Days", "requests_alt":
    "Days taken to answer {n} request(s), against the deadline; {late} late.",
}

STRINGS = {"fr": _FR, "en": _EN}
