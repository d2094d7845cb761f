/*! Expert SPRO — widget de discussion (SPRO Auvergne-Rhône-Alpes).
 * Intégration : <script src="https://…/widget.js" data-api="https://…"></script>
 * Options (attributs data-* du <script>) : data-api, data-container (sélecteur : affichage intégré),
 * data-department, data-commune (territoire de la structure qui intègre), data-open="true".
 * Icônes : Remix Icon (https://remixicon.com), licence Apache 2.0.
 *
 * @@GENERATED@@
 */
(function () {
  "use strict";

  var currentScript = document.currentScript;
  if (window.ExpertSPRO && window.ExpertSPRO.mount) {
    // Loaded twice: keep the first copy, but still honour this <script>'s own settings.
    if (currentScript) window.ExpertSPRO.mountFromScript(currentScript);
    return;
  }

  // Labels: generated from knowledge/referentials.py and the embedded networks (one table, one place).
  var LABELS = /*@@LABELS@@*/ {};
  var CSS = /*@@CSS@@*/ "";
  var VERSION = "1";

  // ---------------------------------------------------------------------------------------------
  // Texts
  // ---------------------------------------------------------------------------------------------

  var T = {
    title: "Expert SPRO",
    subtitle: "Qui fait quoi dans le SPRO Auvergne-Rhône-Alpes",
    launcher: "Expert SPRO : trouver le bon interlocuteur",
    close: "Fermer Expert SPRO",
    newConversation: "Nouvelle conversation",
    newConversationShort: "Nouvelle",
    newConversationRest: " conversation",
    welcome:
      "Bonjour ! Décrivez la situation de la personne que vous accompagnez : son âge, sa situation, " +
      "ce qu'elle cherche et sa commune. Je vous indique les structures du SPRO compétentes près de chez elle, " +
      "avec leurs contacts officiels.",
    examplesLabel: "Exemples",
    examples: [
      "Jeune de 17 ans décrocheur à Vienne",
      "Salariée de 42 ans qui veut se reconvertir",
      "Demandeur d'emploi de 50 ans avec une RQTH",
    ],
    inputLabel: "Décrivez la situation",
    inputHint: "Entrée pour envoyer, Maj + Entrée pour aller à la ligne. N'indiquez ni le nom ni les coordonnées de la personne.",
    inputPlaceholder: "Ex. : jeune de 18 ans qui cherche un apprentissage",
    send: "Envoyer",
    you: "Vous",
    bot: "Expert SPRO",
    typing: "Expert SPRO cherche les structures compétentes…",
    answerAnnounce: "Réponse d'Expert SPRO : ",
    resultsTitle: function (n) {
      return n === 1 ? "1 structure proposée" : n + " structures proposées";
    },
    resultsAnnounce: function (n) {
      return n === 1 ? " 1 structure proposée." : " " + n + " structures proposées.";
    },
    noResult:
      "Aucune structure proposée pour ce cas. Précisez l'âge, la situation, le besoin ou la commune de la personne.",
    clarifyGroup: "Réponses proposées",
    earlierTurn: "Échange précédent, ",
    earlierOpen: "Rouvrir",
    earlierClose: "Replier",
    earlierNoResult: "aucune structure proposée",
    earlierMore: function (n) {
      return n === 1 ? " et 1 autre structure" : " et " + n + " autres structures";
    },
    network: "Réseau : ",
    why: "Pourquoi cette structure",
    contactReported: "Contact signalé comme erroné, à vérifier",
    contactReportedBadge: "Contact signalé, à vérifier",
    noContact: "Pas de contact local dans la base : voir le site du réseau.",
    phone: "Téléphone : ",
    email: "Courriel : ",
    website: "Site internet",
    newWindow: " (nouvelle fenêtre)",
    address: "Adresse : ",
    site: "Site : ",
    nationalKind: "Contact national du réseau, pas un site local",
    nationalLocator: "Annuaire officiel du réseau",
    nationalWebsite: "Site officiel du réseau",
    nationalPhone: "Numéro national : ",
    hours: "Horaires d'ouverture",
    hoursCopy: "Horaires : ",
    stale: "À vérifier : donnée de plus de deux ans",
    source: "Source : ",
    asOf: function (d) {
      return " (à jour au " + d + ")";
    },
    upToDay: function (d) {
      return "à jour au " + d;
    },
    upToMonth: function (m) {
      return "à jour en " + m;
    },
    excerpts: function (n) {
      return n === 1 ? "Voir l'extrait de la base" : "Voir les " + n + " extraits de la base";
    },
    excerptSource: "Source : ",
    copy: "Copier la fiche",
    copied: "Fiche copiée : vous pouvez la coller dans un courriel.",
    copyManual: "Copie automatique impossible : sélectionnez le texte ci-dessous puis copiez-le (Ctrl+C).",
    copyManualLabel: "Fiche à copier",
    reportContact: "Contact erroné",
    reportIrrelevant: "Pas pertinent",
    reportContactTitle: "Signaler un contact erroné",
    reportIrrelevantTitle: "Signaler une structure non pertinente",
    reportReason: "Précisez (facultatif, sans données personnelles)",
    reportField: "Information concernée",
    reportFields: [
      ["", "Je ne sais pas ou autre"],
      ["phone", "Téléphone"],
      ["email", "Courriel"],
      ["address", "Adresse"],
      ["hours", "Horaires"],
      ["website", "Site internet"],
    ],
    referent: "Référent·e : ",
    referentsLabel: "Référent·es nommé·es par la structure",
    referentFor: "pour : ",
    reportSend: "Envoyer le signalement",
    cancel: "Annuler",
    reportDone: "Merci : votre signalement sera vérifié avant toute correction du contact.",
    rateQuestion: "Cette réponse vous aide-t-elle ?",
    rateUp: "Oui",
    rateDown: "Non",
    rateUpLabel: "Oui, cette réponse m'aide",
    rateDownLabel: "Non, cette réponse ne m'aide pas",
    rateWhy: "Qu'est-ce qui n'allait pas ? (facultatif, sans données personnelles)",
    rateSend: "Envoyer l'avis",
    rateForm: "Votre avis sur cette réponse",
    rateDone: "Merci pour votre avis.",
    sources: function (n) {
      return n === 1 ? "Source citée" : "Sources citées (" + n + ")";
    },
    guideLink: function (department) {
      return "Qui fait quoi ? Le guide du département : " + department;
    },
    caseTitle: "Situation comprise (cliquez pour corriger)",
    caseAge: "Âge",
    caseStatus: "Situation",
    caseNeed: "Besoin",
    caseNeeds: "Besoins",
    caseOtherNeed: "Autre besoin",
    casePlace: "Commune",
    caseDepartment: "Département",
    caseFlag: "Particularité",
    caseAdd: "Ajouter : ",
    caseEdit: ", modifier",
    editAgeLabel: "Âge de la personne (en années)",
    editStatusLabel: "Situation de la personne",
    editNeedLabel: "Ce que cherche la personne",
    editNeedAddLabel: "Autre besoin de la personne",
    editPlaceLabel: "Commune (ou département) de la personne",
    editPlaceHint: "Nom de la commune, code postal, ou département.",
    editApply: "Valider",
    removeNeed: function (label) {
      return "Retirer le besoin : " + label;
    },
    removeFlag: function (label) {
      return "Retirer la particularité : " + label;
    },
    removeGroup: "Ou retirer un besoin de la situation :",
    editChoose: "Choisir…",
    editAgeInvalid: "Indiquez un âge entre 0 et 120 ans.",
    editEmpty: "Ce champ est vide.",
    years: function (n) {
      return n + " ans";
    },
    // Messages sent when a chip of the understood case is edited.
    sayAge: function (n) {
      return "la personne a " + n + " ans";
    },
    sayStatus: function (label) {
      return "la personne est " + label;
    },
    sayNeed: function (label) {
      return "finalement, elle cherche plutôt : " + label;
    },
    sayNeedAdd: function (label) {
      return "elle cherche aussi : " + label;
    },
    sayPlace: function (text) {
      return "à " + text;
    },
    sayRemove: function (label) {
      return "retirer de la situation : " + label;
    },
    errorTitle: "Réponse impossible",
    offline:
      "Le service Expert SPRO ne répond pas. Vérifiez votre connexion internet ou réessayez dans quelques instants.",
    timeout: "Le service Expert SPRO met trop de temps à répondre. Réessayez dans quelques instants.",
    rateLimited: function (s) {
      return "Trop de demandes en peu de temps. Vous pourrez réessayer dans " + s + " seconde" + (s > 1 ? "s" : "") + ".";
    },
    retry: "Réessayer",
    retryIn: function (s) {
      return "Réessayer (dans " + s + " s)";
    },
    serverError: "Le service Expert SPRO a rencontré une erreur. Réessayez dans quelques instants.",
    badAnswer: "La réponse du service est illisible. Réessayez dans quelques instants.",
    feedbackError: "Avis non enregistré : ",
    notSent: "Message non envoyé",
    emptyMessage: "Écrivez d'abord la situation de la personne.",
    ficheFooter: "Fiche proposée par Expert SPRO (Service Public Régional de l'Orientation Auvergne-Rhône-Alpes)",
  };

  // ---------------------------------------------------------------------------------------------
  // Safe DOM: elements are built with createElement and textContent only; links pass through safeHref.
  // ---------------------------------------------------------------------------------------------

  var SAFE_PROTOCOLS = { "http:": true, "https:": true, "tel:": true, "mailto:": true };

  /** The URL itself when it is absolute and http(s), tel: or mailto:, else null. */
  function safeHref(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    var url;
    try {
      url = new URL(value.trim());
    } catch (e) {
      return null;
    }
    return SAFE_PROTOCOLS[url.protocol] ? url.href : null;
  }

  function webHref(value) {
    var href = safeHref(value);
    return href && /^https?:/.test(href) ? href : null;
  }

  function telHref(phone) {
    if (typeof phone !== "string") return null;
    var digits = phone.replace(/[^\d+]/g, "");
    if (!/^\+?\d{3,15}$/.test(digits)) return null;
    return safeHref("tel:" + digits);
  }

  var EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

  function mailHref(email) {
    if (typeof email !== "string" || !EMAIL.test(email.trim())) return null;
    return safeHref("mailto:" + email.trim());
  }

  /** h("p", {class: "x", onclick: fn}, "text", child, [more]) — text is always text, never markup. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = String(value);
        else if (key.slice(0, 2) === "on" && typeof value === "function") el.addEventListener(key.slice(2), value);
        else if (key === "href") {
          var href = safeHref(value);
          if (href) el.setAttribute("href", href);
        } else if (key === "value") el.value = value;
        else el.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(parent, c); });
    else if (typeof child === "string" || typeof child === "number") parent.appendChild(document.createTextNode(String(child)));
    else parent.appendChild(child);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  // Whether the understood case holds anything to show as a chip.
  function knowsSomething(understood) {
    return Boolean(
      understood.age != null || understood.status || understood.commune || understood.department ||
        (understood.needs && understood.needs.length) || (understood.flags && understood.flags.length)
    );
  }

  var SVG = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M12 2c5.523 0 10 4.477 10 10s-4.477 10-10 10a9.956 9.956 0 0 1-4.709-1.176L2 22l1.176-5.291A9.956 9.956 0 0 1 2 12C2 6.477 6.477 2 12 2Zm0 2a8 8 0 0 0-8 8c0 1.334.325 2.618.94 3.766l.349.653-.655 2.947 2.947-.655.653.35A7.955 7.955 0 0 0 12 20a8 8 0 0 0 0-16Z",
    close: "m12 10.6 4.95-4.96 1.4 1.4L13.42 12l4.96 4.95-1.4 1.4L12 13.42l-4.95 4.96-1.4-1.4L10.58 12 5.63 7.05l1.4-1.4z",
    refresh: "M5.46 4.43a10 10 0 0 1 14.73 13.3L17 12.01h3A8 8 0 0 0 6.46 6.23l-1-1.8zm13.08 15.14A10 10 0 0 1 3.8 6.27L7 11.99H4a8 8 0 0 0 13.54 5.77l1 1.8z",
    send: "m21.727 2.957-5.454 19.086c-.15.529-.475.553-.717.07L11 13 1.923 9.37c-.51-.205-.504-.51.034-.689l19.086-6.362c.529-.176.832.12.684.638Zm-2.692 2.14L6.812 9.17h.001l5.636 2.255 3.04 6.082 3.546-12.41Z",
    phone: "M8.539 3a1 1 0 0 1 .997.921A11.422 11.422 0 0 0 10.9 8.504a1 1 0 0 1-.296 1.294l-1.238.884a10.556 10.556 0 0 0 3.952 3.952l.884-1.238a1 1 0 0 1 1.294-.296 11.422 11.422 0 0 0 4.583 1.364 1 1 0 0 1 .921.997v4.462a1 1 0 0 1-.898.995A15.51 15.51 0 0 1 18.5 21C9.94 21 3 14.06 3 5.5c0-.538.027-1.072.082-1.602A1 1 0 0 1 4.077 3h4.462Zm-.892 2H5.01c-.006.166-.009.333-.009.5C5 12.956 11.044 19 18.5 19c.167 0 .334-.003.5-.01v-2.637a13.41 13.41 0 0 1-3.668-1.097l-1.357 1.9a12.442 12.442 0 0 1-1.588-.75l-.058-.033a12.556 12.556 0 0 1-4.702-4.702l-.033-.058a12.442 12.442 0 0 1-.75-1.588l1.9-1.357A13.41 13.41 0 0 1 7.647 5Z",
    mail: "M3 3h18a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1Zm17 4.238-7.928 7.1L4 7.216V19h16V7.238ZM4.511 5l7.55 6.662L19.502 5H4.511Z",
    pin: "M18.364 3.636a9 9 0 0 1 0 12.728L12 22.728l-6.364-6.364A9 9 0 0 1 18.364 3.636ZM7.05 5.051a7 7 0 0 0 0 9.899L12 19.9l4.95-4.95a7 7 0 0 0-9.9-9.9ZM12 8a2 2 0 1 1 0 4 2 2 0 0 1 0-4Z",
    globe: "M12 2c5.523 0 10 4.477 10 10s-4.477 10-10 10S2 17.523 2 12 6.477 2 12 2Zm1.97 11h-3.94c.151 2.439.848 4.73 1.97 6.752A15.905 15.905 0 0 0 13.97 13Zm-5.943 0H4.062a8.008 8.008 0 0 0 5.648 6.667A17.9 17.9 0 0 1 8.027 13Zm11.911 0h-3.965a17.9 17.9 0 0 1-1.683 6.667A8.008 8.008 0 0 0 19.938 13ZM12 4.248A15.905 15.905 0 0 0 10.03 11h3.939A15.905 15.905 0 0 0 12 4.248Zm-2.29.085A8.008 8.008 0 0 0 4.062 11h3.965A17.9 17.9 0 0 1 9.71 4.333Zm4.58 0A17.9 17.9 0 0 1 15.973 11h3.965a8.008 8.008 0 0 0-5.648-6.667Z",
    copy: "M17 2v2h3.007c.548 0 .993.445.993.993v16.014a.994.994 0 0 1-.993.993H3.993A.994.994 0 0 1 3 21.007V4.993C3 4.445 3.445 4 3.993 4H7V2h10ZM7 6H5v14h14V6h-2v2H7V6Zm8-2H9v2h6V4Z",
    thumbUp: "m12.384.691 1.814.907a2.5 2.5 0 0 1 1.305 2.853L14.6 8H21a2 2 0 0 1 2 2v2.104a2 2 0 0 1-.15.762l-3.095 7.515a1 1 0 0 1-.925.619H2a1 1 0 0 1-1-1V10a1 1 0 0 1 1-1h3.482a1 1 0 0 0 .817-.423L11.752.85a.5.5 0 0 1 .632-.159Zm.259 2.367L7.933 9.73c-.25.354-.57.644-.933.858V19h11.16L21 12.104V10h-6.4a2 2 0 0 1-1.938-2.493l.903-3.548a.5.5 0 0 0-.261-.571l-.661-.33Z",
    thumbDown: "M22 3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-3.482a1 1 0 0 0-.817.423l-5.453 7.726a.5.5 0 0 1-.632.159L9.802 22.4a2.5 2.5 0 0 1-1.305-2.853L9.4 16H3a2 2 0 0 1-2-2v-2.104a2 2 0 0 1 .15-.762L4.246 3.62A1 1 0 0 1 5.17 3H22Zm-5 2H5.84L3 11.896V14h6.4a2 2 0 0 1 1.938 2.493l-.903 3.548a.5.5 0 0 0 .261.571l.661.33 4.71-6.672c.25-.354.57-.644.933-.858V5Z",
    alert: "m12.866 3 9.526 16.5a1 1 0 0 1-.866 1.5H2.474a1 1 0 0 1-.866-1.5L11.134 3a1 1 0 0 1 1.732 0Zm-8.66 16h15.588L12 5.5 4.206 19ZM11 16h2v2h-2v-2Zm0-7h2v5h-2V9Z",
    edit: "M6.414 16 16.556 5.858l-1.414-1.414L5 14.586V16h1.414Zm.829 2H3v-4.243L14.435 2.322a1 1 0 0 1 1.414 0l2.829 2.829a1 1 0 0 1 0 1.414L7.243 18ZM3 20h18v2H3v-2Z",
    add: "M11 11V5h2v6h6v2h-6v6h-2v-6H5v-2h6Z",
    external: "M10 6v2H5v11h11v-5h2v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h6Zm11-3v8h-2V6.413l-7.793 7.794-1.414-1.414L17.585 5H13V3h8Z",
  };

  function icon(name, small) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", small ? "spro-icon spro-icon--sm" : "spro-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function srOnly(text) {
    return h("span", { class: "spro-sr-only" }, text);
  }

  // ---------------------------------------------------------------------------------------------
  // Formatting
  // ---------------------------------------------------------------------------------------------

  /** "2019-10-22" -> "22/10/2019"; anything else is returned as it is. */
  function frenchDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : iso || "";
  }

  function label(table, code) {
    return (LABELS[table] && LABELS[table][code]) || String(code).replace(/_/g, " ");
  }

  function networkLabel(code) {
    return (LABELS.networks && LABELS.networks[code]) || String(code).replace(/_/g, " ");
  }

  function departmentLabel(code) {
    var name = LABELS.departments && LABELS.departments[code];
    return name ? name + " (" + code + ")" : code;
  }

  /** "103 rue Chorier, 38270" + "Beaurepaire" -> "103 rue Chorier, 38270 Beaurepaire". */
  function fullAddress(contact) {
    var address = (contact.address || "").trim();
    var commune = (contact.commune || "").trim();
    if (!address) return commune;
    if (!commune || address.toLowerCase().indexOf(commune.toLowerCase()) !== -1) return address;
    return /\d{5}$/.test(address) ? address + " " + commune : address + ", " + commune;
  }

  /** "2019-10-22" -> "à jour au 22/10/2019"; a day 01 marks month-precision data: "2026-01-01" -> "à jour en 01/2026". */
  function upTo(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!m) return iso ? T.upToDay(iso) : "";
    return m[3] === "01" ? T.upToMonth(m[2] + "/" + m[1]) : T.upToDay(m[3] + "/" + m[2] + "/" + m[1]);
  }

  /** "téléphone, courriel — Service-Public.fr / DILA, à jour au 22/10/2019" (no fields: the whole contact). */
  function provenanceText(p) {
    var fields = Array.isArray(p.fields) ? p.fields.filter(Boolean) : [];
    var text = (fields.length ? fields.join(", ") + " — " : "") + (p.source || "");
    var when = upTo(p.as_of);
    return when ? text + ", " + when : text;
  }

  /** One line for every (source, date) of the contact, after "Source : ". */
  function contactSource(contact) {
    var lines = Array.isArray(contact.provenance) && contact.provenance.length
      ? contact.provenance
      : [{ fields: [], source: contact.source, as_of: contact.as_of }];
    return T.source + lines.map(provenanceText).join(" ; ");
  }

  function isNational(contact) {
    return contact.kind === "national";
  }

  /** The national contact's page is the network's locator when its label says so, else its official site. */
  function nationalLinkText(contact) {
    return /annuaire/i.test(contact.label || "") ? T.nationalLocator : T.nationalWebsite;
  }

  function squash(text) {
    return String(text || "").toLowerCase().replace(/\s+/g, " ").trim();
  }

  /** Does the reply already ask the question (whatever its case or spacing)? Then it is not said twice. */
  function asks(reply, question) {
    return !!question && squash(reply).indexOf(squash(question)) !== -1;
  }

  function withNote(phone, note) {
    return note ? phone + " (" + note + ")" : phone;
  }

  function capitalise(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  }

  /** "Camille Martin, chargée de relations entreprises — pour : RQTH". */
  function referentLine(r) {
    return r.name + (r.role ? ", " + r.role : "") + (r.topics ? " — " + T.referentFor + r.topics : "");
  }

  /** The plain-text card a counsellor pastes into an e-mail to the partner. */
  function ficheText(structure) {
    var lines = [structure.name, T.network + networkLabel(structure.network)];
    if (structure.contact_reported) lines.push("⚠ " + T.contactReported);
    if (structure.reasons && structure.reasons.length) {
      lines.push("", T.why + " :");
      structure.reasons.forEach(function (r) { lines.push("- " + r); });
    }
    (structure.contacts || []).forEach(function (c) {
      var national = isNational(c);
      lines.push("");
      if (national) lines.push(T.nationalKind + " :");
      if (c.label && (national || c.label !== structure.name)) lines.push(c.label);
      var address = fullAddress(c);
      if (address) lines.push(T.address + address);
      if (c.phone) lines.push((national ? T.nationalPhone : T.phone) + withNote(c.phone, c.phone_note));
      if (c.email) lines.push(T.email + c.email);
      if (c.url) lines.push((national ? nationalLinkText(c) + " : " : T.site) + c.url);
      var hours = Array.isArray(c.hours) ? c.hours : [];
      if (hours.length) lines.push(T.hoursCopy + hours.join(" ; "));
      lines.push(contactSource(c));
      if (c.stale) lines.push("⚠ " + T.stale);
    });
    if (!(structure.contacts || []).length) lines.push("", T.noContact);
    (structure.referents || []).forEach(function (r) {
      lines.push("", T.referent + referentLine(r));
      if (r.phone) lines.push(T.phone + r.phone);
      if (r.email) lines.push(T.email + r.email);
    });
    if (structure.freshness && structure.freshness.text) lines.push("", capitalise(structure.freshness.text) + ".");
    lines.push("", "— " + T.ficheFooter + ", " + new Date().toLocaleDateString("fr-FR") + ".");
    return lines.join("\n");
  }

  // ---------------------------------------------------------------------------------------------
  // API client
  // ---------------------------------------------------------------------------------------------

  function WidgetError(kind, message, seconds) {
    this.kind = kind; // "network" | "timeout" | "rate" | "server" | "client" | "abort"
    this.message = message;
    this.seconds = seconds || 0;
  }

  var TIMEOUT_MS = 45000;

  function parseRetryAfter(value, detail) {
    if (value) {
      if (/^\d+$/.test(value.trim())) return Math.max(1, parseInt(value, 10));
      var when = Date.parse(value);
      if (!isNaN(when)) return Math.max(1, Math.ceil((when - Date.now()) / 1000));
    }
    // Cross-origin, the header is only readable when the API exposes it: the French detail says it too.
    var m = /(\d+)\s*s/.exec(detail || "");
    return m ? Math.max(1, parseInt(m[1], 10)) : 30;
  }

  function Api(base) {
    this.base = base.replace(/\/+$/, "");
  }

  Api.prototype.call = function (method, path, body, signal) {
    var controller = new AbortController();
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      controller.abort();
    }, TIMEOUT_MS);
    if (signal) {
      if (signal.aborted) controller.abort();
      else signal.addEventListener("abort", function () { controller.abort(); });
    }
    var init = {
      method: method,
      headers: { Accept: "application/json" },
      credentials: "omit",
      mode: "cors",
      signal: controller.signal,
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init)
      .catch(function () {
        if (timedOut) throw new WidgetError("timeout", T.timeout);
        if (signal && signal.aborted) throw new WidgetError("abort", "");
        throw new WidgetError("network", T.offline);
      })
      .then(function (response) {
        return response.text().then(
          function (text) {
            var data = null;
            try {
              data = text ? JSON.parse(text) : null;
            } catch (e) {
              data = null;
            }
            return { response: response, data: data };
          },
          function () {
            throw new WidgetError(timedOut ? "timeout" : "network", timedOut ? T.timeout : T.offline);
          }
        );
      })
      .then(function (result) {
        clearTimeout(timer);
        var response = result.response;
        var data = result.data;
        var detail = data && typeof data.detail === "string" ? data.detail : "";
        if (response.status === 429) {
          var seconds = parseRetryAfter(response.headers.get("Retry-After"), detail);
          throw new WidgetError("rate", T.rateLimited(seconds), seconds);
        }
        if (response.status >= 500) throw new WidgetError("server", detail || T.serverError);
        if (!response.ok) throw new WidgetError("client", detail || T.serverError);
        if (response.status !== 204 && (data === null || typeof data !== "object"))
          throw new WidgetError("server", T.badAnswer);
        return data;
      }, function (error) {
        clearTimeout(timer);
        throw error;
      });
  };

  // ---------------------------------------------------------------------------------------------
  // The widget
  // ---------------------------------------------------------------------------------------------

  var instances = 0;

  function Widget(host, options) {
    instances += 1;
    this.uid = "spro" + instances;
    this.host = host;
    this.options = options;
    this.api = new Api(options.api);
    this.floating = !options.container;
    this.conversationId = null;
    this.understood = null;
    this.pending = false;
    this.cooldownUntil = 0;
    this.cooldownTimer = null;
    this.controller = null;
    this.answers = 0;
    this.turns = [];
    this.root = host.attachShadow({ mode: "open" });
    this.build();
  }

  Widget.prototype.id = function (suffix) {
    return this.uid + "-" + suffix;
  };

  Widget.prototype.build = function () {
    var self = this;
    var style = document.createElement("style");
    style.textContent = CSS;
    this.root.appendChild(style);

    this.live = h("div", { class: "spro-sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.log = h("div", { class: "spro-log", role: "region", "aria-label": "Conversation avec Expert SPRO", tabindex: "-1" });
    this.caseBar = null;
    this.textarea = h("textarea", {
      id: this.id("input"),
      class: "spro-input",
      rows: "2",
      maxlength: "2000",
      placeholder: T.inputPlaceholder,
      "aria-describedby": this.id("input-hint"),
      autocomplete: "off",
      onkeydown: function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.submit();
        }
      },
    });
    this.sendButton = h("button", { class: "spro-btn", type: "submit" }, icon("send"), h("span", { class: "spro-composer__send-text" }, T.send));
    this.composerError = h("p", { class: "spro-error-text", id: this.id("input-error"), hidden: true });
    var composer = h(
      "form",
      {
        class: "spro-composer",
        novalidate: true,
        onsubmit: function (event) {
          event.preventDefault();
          self.submit();
        },
      },
      h("label", { class: "spro-label", for: this.id("input") }, T.inputLabel),
      h("div", { class: "spro-composer__row" }, this.textarea, this.sendButton),
      this.composerError,
      h("span", { class: "spro-hint", id: this.id("input-hint") }, T.inputHint)
    );

    var actions = h(
      "div",
      { class: "spro-header__actions" },
      h(
        "button",
        { class: "spro-btn spro-btn--tertiary spro-btn--sm", type: "button", onclick: function () { self.reset(); } },
        icon("refresh", true),
        h("span", null, T.newConversationShort, h("span", { class: "spro-narrow-hidden" }, T.newConversationRest))
      )
    );
    if (this.floating) {
      actions.appendChild(
        h(
          "button",
          {
            class: "spro-btn spro-btn--tertiary spro-btn--sm spro-btn--icon",
            type: "button",
            "aria-label": T.close,
            title: T.close,
            onclick: function () { self.close(); },
          },
          icon("close")
        )
      );
    }
    var header = h(
      "div",
      { class: "spro-header" },
      h(
        "div",
        { class: "spro-brand" },
        h("h2", { class: "spro-title", id: this.id("title") }, this.options.title || T.title),
        h("span", { class: "spro-subtitle" }, T.subtitle)
      ),
      actions
    );

    this.panel = h(
      "div",
      {
        class: "spro-panel " + (this.floating ? "spro-panel--floating" : "spro-panel--inline"),
        id: this.id("panel"),
        role: this.floating ? "dialog" : "region",
        "aria-labelledby": this.id("title"),
        hidden: this.floating ? true : null,
        onkeydown: function (event) {
          if (event.key === "Escape" && self.floating && !event.defaultPrevented) {
            event.preventDefault();
            self.close();
          } else if (event.key === "Tab" && self.isModal()) {
            self.trapTab(event);
          }
        },
      },
      header,
      h("div", { class: "spro-body" }, this.log, composer),
      this.live
    );

    // Everything hangs from one wrapper that resets what the host page would pass down by inheritance.
    var frame = h("div", { class: "spro-root" });
    if (this.floating) {
      this.launcher = h(
        "button",
        {
          class: "spro-launcher",
          type: "button",
          "aria-expanded": "false",
          "aria-controls": this.id("panel"),
          onclick: function () { self.open(); },
        },
        icon("chat"),
        T.launcher
      );
      frame.appendChild(this.launcher);
    }
    frame.appendChild(this.panel);
    this.root.appendChild(frame);
    this.frame = frame;
    if (this.floating) {
      var query = window.matchMedia(FULL_SCREEN);
      var sync = function () { self.syncModal(); };
      if (query.addEventListener) query.addEventListener("change", sync);
      else if (query.addListener) query.addListener(sync);
    }
    this.welcome();
  };

  // The floating panel fills a phone's screen (the CSS's media query): it is then a modal dialog.
  var FULL_SCREEN = "(max-width: 30em), (max-height: 36em)";

  Widget.prototype.isModal = function () {
    return this.floating && !this.panel.hidden && window.matchMedia(FULL_SCREEN).matches;
  };

  /** aria-modal only while the panel covers the page; beside a desktop page it is a non-modal dialog. */
  Widget.prototype.syncModal = function () {
    if (this.isModal()) this.panel.setAttribute("aria-modal", "true");
    else this.panel.removeAttribute("aria-modal");
  };

  /** The controls a Tab can reach in the panel, in order (closed <details> hide their content). */
  Widget.prototype.tabbable = function () {
    var selector = "a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), " +
      "select:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
    return Array.prototype.filter.call(this.panel.querySelectorAll(selector), function (el) {
      return el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    });
  };

  /** Tab and Shift+Tab cycle inside the full-screen panel: nothing of the page hidden behind gets focus. */
  Widget.prototype.trapTab = function (event) {
    var items = this.tabbable();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var active = this.root.activeElement;
    var inside = active && this.panel.contains(active);
    if (event.shiftKey && (!inside || active === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || active === last)) {
      event.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.open = function () {
    if (!this.floating) return;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.syncModal();
    this.textarea.focus();
  };

  Widget.prototype.close = function () {
    if (!this.floating) return;
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.syncModal();
    this.launcher.focus();
  };

  Widget.prototype.announce = function (text) {
    var live = this.live;
    live.textContent = "";
    // A fresh text node in a later task is announced even when the text repeats.
    setTimeout(function () { live.textContent = text; }, 50);
  };

  Widget.prototype.welcome = function () {
    var self = this;
    var examples = T.examples.map(function (text) {
      return h("li", null, h("button", { class: "spro-tag", type: "button", onclick: function () { self.send(text); } }, text));
    });
    this.log.appendChild(
      h(
        "div",
        { class: "spro-msg spro-msg--bot spro-welcome" },
        h("p", { class: "spro-reply" }, T.welcome),
        h("p", { class: "spro-note", id: this.id("examples") }, T.examplesLabel + " :"),
        h("ul", { class: "spro-tags", "aria-labelledby": this.id("examples") }, examples)
      )
    );
  };

  Widget.prototype.reset = function () {
    if (this.controller) this.controller.abort();
    var old = this.conversationId;
    if (old) {
      // Right to erasure: the server forgets the case now rather than at expiry. Best effort.
      this.api.call("DELETE", "/api/conversations/" + encodeURIComponent(old)).catch(function () {});
    }
    this.conversationId = null;
    this.understood = null;
    this.caseBar = null;
    this.pending = false;
    this.answers = 0;
    this.turns = [];
    this.stopCooldown();
    clear(this.log);
    this.welcome();
    this.renderCase();
    this.textarea.value = "";
    this.setComposerError(null);
    this.updateComposer();
    this.textarea.focus();
    this.announce("Nouvelle conversation.");
  };

  Widget.prototype.setComposerError = function (text) {
    this.composerError.textContent = text || "";
    this.composerError.hidden = !text;
    if (text) {
      this.textarea.setAttribute("aria-invalid", "true");
      this.textarea.setAttribute("aria-describedby", this.id("input-error") + " " + this.id("input-hint"));
    } else {
      this.textarea.removeAttribute("aria-invalid");
      this.textarea.setAttribute("aria-describedby", this.id("input-hint"));
    }
  };

  Widget.prototype.updateComposer = function () {
    var blocked = this.pending || Date.now() < this.cooldownUntil;
    this.sendButton.disabled = blocked;
    this.root.querySelectorAll("[data-spro-send]").forEach(function (el) {
      el.disabled = blocked || el.getAttribute("data-spro-done") === "true";
    });
  };

  Widget.prototype.submit = function () {
    var text = this.textarea.value.trim();
    if (!text) {
      this.setComposerError(T.emptyMessage);
      this.textarea.focus();
      return;
    }
    if (this.send(text)) this.textarea.value = "";
  };

  /** Send one message of the counsellor; false when a request is already running or rate-limited. */
  Widget.prototype.send = function (text, options) {
    options = options || {};
    if (this.pending) return false;
    if (Date.now() < this.cooldownUntil) {
      this.setComposerError(T.rateLimited(Math.ceil((this.cooldownUntil - Date.now()) / 1000)));
      return false;
    }
    this.setComposerError(null);
    var bubble = options.bubble || this.userBubble(text);
    this.request(text, bubble, options.extra || null);
    if (options.focusInput !== false) this.textarea.focus();
    return true;
  };

  Widget.prototype.userBubble = function (text) {
    var bubble = h("div", { class: "spro-msg spro-msg--user" }, h("span", { class: "spro-msg__who" }, T.you), text);
    this.log.appendChild(bubble);
    this.scrollTo(bubble);
    return bubble;
  };

  /** `extra`: fields sent with the message (`remove`: codes a chip took off the case). */
  Widget.prototype.request = function (text, bubble, extra) {
    var self = this;
    this.pending = true;
    this.updateComposer();
    var typing = h(
      "div",
      { class: "spro-msg spro-typing", "aria-hidden": "true" },
      h("span", { class: "spro-dots" }, h("span"), h("span"), h("span")),
      h("span", { class: "spro-note" }, T.typing)
    );
    this.log.appendChild(typing);
    this.scrollTo(typing);
    this.announce(T.typing);
    var body = { message: text };
    if (extra) Object.keys(extra).forEach(function (key) { body[key] = extra[key]; });
    if (this.conversationId) body.conversation_id = this.conversationId;
    var context = {};
    if (this.options.department) context.department = this.options.department;
    if (this.options.commune) context.commune = this.options.commune;
    if (context.department || context.commune) body.context = context;
    var controller = new AbortController();
    this.controller = controller;
    this.api
      .call("POST", "/api/chat", body, controller.signal)
      .then(function (answer) {
        if (controller.signal.aborted) return;
        typing.remove();
        self.pending = false;
        self.controller = null;
        self.conversationId = answer.conversation_id || null;
        self.understood = answer.understood || null;
        bubble.classList.remove("spro-msg--failed");
        var who = bubble.querySelector(".spro-msg__who");
        if (who) who.textContent = T.you;
        var node = self.renderAnswer(answer);
        self.collapseEarlier();
        self.turns.push({ bubble: bubble, node: node, text: text, answer: answer });
        self.renderCase();
        self.updateComposer();
        self.scrollTo(bubble);
        var structures = answer.structures || [];
        var clarification = answer.clarification;
        // The question is read once: the reply often asks it already.
        self.announce(
          T.answerAnnounce + (answer.reply || "") +
            (clarification && clarification.question && !asks(answer.reply, clarification.question)
              ? " " + clarification.question
              : "") +
            (structures.length ? T.resultsAnnounce(structures.length) : "")
        );
      })
      .catch(function (error) {
        if (controller.signal.aborted || (error && error.kind === "abort")) return;
        typing.remove();
        self.pending = false;
        self.controller = null;
        if (!(error instanceof WidgetError)) error = new WidgetError("server", T.serverError);
        self.renderError(error, text, bubble, extra);
      });
  };

  Widget.prototype.scrollTo = function (node) {
    if (window.getComputedStyle(this.log).overflowY === "auto") {
      var log = this.log;
      // Show the start of the new node (its offset is measured from the log's top edge).
      var top = node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
      log.scrollTop = Math.max(0, top);
    } else if (node.getBoundingClientRect().top < 0 || node.getBoundingClientRect().top > window.innerHeight - 80) {
      node.scrollIntoView({ block: "start" });
    }
  };

  // --- earlier turns, folded to one line ---------------------------------------------------------

  /** Fold every earlier exchange to one line (its question and first structure), with a button to reopen it. */
  Widget.prototype.collapseEarlier = function () {
    var self = this;
    this.turns.forEach(function (turn) {
      if (!turn.toggle) self.foldable(turn);
      self.fold(turn, true);
    });
  };

  Widget.prototype.foldable = function (turn) {
    var self = this;
    var k = this.turns.indexOf(turn) + 1;
    turn.bubble.id = turn.bubble.id || this.id("ask" + k);
    turn.node.id = turn.node.id || this.id("answer" + k);
    var structures = Array.isArray(turn.answer.structures) ? turn.answer.structures : [];
    var outcome = structures.length
      ? structures[0].name + (structures.length > 1 ? T.earlierMore(structures.length - 1) : "")
      : turn.answer.clarification && turn.answer.clarification.question
        ? turn.answer.clarification.question
        : T.earlierNoResult;
    turn.state = h("span", { class: "spro-turn__action" });
    turn.toggle = h(
      "button",
      {
        class: "spro-turn",
        type: "button",
        "aria-expanded": "false",
        "aria-controls": turn.bubble.id + " " + turn.node.id,
        onclick: function () { self.fold(turn, turn.toggle.getAttribute("aria-expanded") === "true"); },
      },
      h("span", { class: "spro-turn__line" },
        srOnly(T.earlierTurn),
        h("span", { class: "spro-turn__ask" }, "« " + turn.text + " »"),
        " — ",
        h("span", { class: "spro-turn__outcome" }, outcome)
      ),
      " ",
      turn.state
    );
    turn.bubble.parentNode.insertBefore(turn.toggle, turn.bubble);
  };

  Widget.prototype.fold = function (turn, folded) {
    turn.bubble.hidden = folded;
    turn.node.hidden = folded;
    turn.toggle.setAttribute("aria-expanded", folded ? "false" : "true");
    turn.state.textContent = folded ? T.earlierOpen : T.earlierClose;
  };

  // --- errors -----------------------------------------------------------------------------------

  Widget.prototype.renderError = function (error, text, bubble, extra) {
    var self = this;
    bubble.classList.add("spro-msg--failed");
    var who = bubble.querySelector(".spro-msg__who");
    if (who) who.textContent = T.you + " — " + T.notSent;
    var retry = h(
      "button",
      {
        class: "spro-btn spro-btn--secondary spro-btn--sm",
        type: "button",
        "data-spro-send": "true",
        onclick: function () {
          box.remove();
          self.send(text, { bubble: bubble, extra: extra });
        },
      },
      icon("refresh", true),
      T.retry
    );
    var message = h("p", null, error.message);
    var box = h(
      "div",
      { class: "spro-alert" + (error.kind === "rate" ? " spro-alert--warning" : ""), role: "alert" },
      h("p", { class: "spro-alert__title" }, T.errorTitle),
      message,
      retry
    );
    this.log.appendChild(box);
    this.scrollTo(box);
    if (error.kind === "rate") {
      this.startCooldown(error.seconds, retry);
    } else {
      this.updateComposer();
    }
  };

  Widget.prototype.startCooldown = function (seconds, retry) {
    var self = this;
    this.stopCooldown();
    this.cooldownUntil = Date.now() + seconds * 1000;
    var tick = function () {
      var left = Math.ceil((self.cooldownUntil - Date.now()) / 1000);
      if (left <= 0) {
        self.stopCooldown();
        retry.lastChild.textContent = T.retry;
        return;
      }
      retry.lastChild.textContent = T.retryIn(left);
    };
    tick();
    this.updateComposer();
    this.cooldownTimer = setInterval(tick, 250);
  };

  Widget.prototype.stopCooldown = function () {
    if (this.cooldownTimer) clearInterval(this.cooldownTimer);
    this.cooldownTimer = null;
    this.cooldownUntil = 0;
    this.updateComposer();
  };

  // --- an answer --------------------------------------------------------------------------------

  Widget.prototype.renderAnswer = function (answer) {
    var self = this;
    this.answers += 1;
    var n = this.answers;
    var structures = Array.isArray(answer.structures) ? answer.structures : [];
    var node = h(
      "div",
      { class: "spro-msg spro-msg--bot", "data-turn": answer.turn },
      h("p", { class: "spro-reply" }, h("span", { class: "spro-msg__who" }, T.bot), answer.reply || T.noResult)
    );

    var clarification = answer.clarification;
    if (clarification && clarification.question) {
      var qid = this.id("q" + n);
      var asked = asks(answer.reply, clarification.question);
      var options = (clarification.options || []).map(function (option) {
        return h(
          "li",
          null,
          h(
            "button",
            {
              class: "spro-tag",
              type: "button",
              "data-spro-send": "true",
              onclick: function (event) {
                var chosen = event.currentTarget;
                if (self.send(option)) {
                  chosen.setAttribute("aria-pressed", "true");
                  group.querySelectorAll("button").forEach(function (b) { b.setAttribute("data-spro-done", "true"); });
                  self.updateComposer();
                }
              },
            },
            option
          )
        );
      });
      var group = h("ul", { class: "spro-tags", "aria-labelledby": qid }, options);
      node.appendChild(
        h(
          "div",
          { class: "spro-clarify" },
          // Asked in the reply already: the options are only labelled, the question is not repeated.
          asked
            ? h("p", { class: "spro-clarify__label", id: qid }, T.clarifyGroup + " :")
            : h("p", { class: "spro-clarify__question", id: qid }, clarification.question),
          options.length ? group : null
        )
      );
    }

    // The understood case, as chips to correct: only under the latest answer, and only when something of a case
    // is understood (no empty chips under "bonjour" or gibberish).
    if (answer.understood && (structures.length || clarification || knowsSomething(answer.understood))) {
      if (this.caseBar) this.caseBar.remove();
      this.caseBar = h("div", { class: "spro-case", role: "group", "aria-labelledby": this.id("case-title" + n) });
      this.caseBar.setAttribute("data-answer", String(n));
      node.appendChild(this.caseBar);
    }

    if (structures.length) {
      var tid = this.id("r" + n);
      node.appendChild(h("h3", { class: "spro-results-title", id: tid }, T.resultsTitle(structures.length)));
      node.appendChild(
        h(
          "ol",
          { class: "spro-cards", "aria-labelledby": tid },
          structures.map(function (s, i) { return h("li", null, self.renderCard(s, i + 1, answer, n)); })
        )
      );
    }
    // With no structure, the reply itself says why (a greeting, an off-topic question): no second text.

    // The territory guide of the department: every other network there, printable, a link to paste.
    var department = answer.understood && answer.understood.department;
    if (structures.length && department && LABELS.departments[department]) {
      node.appendChild(
        h(
          "p",
          { class: "spro-guide-link" },
          h(
            "a",
            { href: this.api.base + "/annuaire/" + encodeURIComponent(department), target: "_blank", rel: "noopener" },
            T.guideLink(departmentLabel(department)),
            srOnly(T.newWindow)
          )
        )
      );
    }

    var sources = Array.isArray(answer.sources) ? answer.sources : [];
    if (sources.length) {
      node.appendChild(
        h(
          "details",
          { class: "spro-details spro-sources" },
          h("summary", null, T.sources(sources.length)),
          h(
            "ul",
            null,
            sources.map(function (src) {
              var href = webHref(src.url);
              var title = src.title || src.id;
              return h(
                "li",
                null,
                href ? h("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, title, srOnly(T.newWindow)) : title,
                src.as_of ? T.asOf(frenchDate(src.as_of)) : null
              );
            })
          )
        )
      );
    }

    if (structures.length) node.appendChild(this.renderRating(answer, n));
    this.log.appendChild(node);
    return node;
  };

  Widget.prototype.renderCard = function (s, rank, answer, n) {
    var self = this;
    var nameId = this.id("c" + n + "-" + rank);
    var card = h("article", { class: "spro-card", "aria-labelledby": nameId, "data-structure-id": s.id });
    card.appendChild(
      h(
        "div",
        { class: "spro-card__head" },
        h("span", { class: "spro-rank", "aria-hidden": "true" }, String(rank)),
        h(
          "div",
          null,
          h("h4", { class: "spro-card__name", id: nameId }, srOnly(rank + ". "), s.name),
          h("p", { class: "spro-card__network" }, T.network + networkLabel(s.network))
        )
      )
    );
    // Shown only when the API says so (after review, or several independent reports), never on one click.
    if (s.contact_reported) card.appendChild(h("p", { class: "spro-badge" }, icon("alert", true), T.contactReportedBadge));

    var reasons = (s.reasons || []).filter(function (r) { return r !== T.contactReported; });
    if (reasons.length) {
      card.appendChild(
        h(
          "div",
          null,
          h("p", { class: "spro-section-label" }, T.why),
          h("ul", { class: "spro-reasons" }, reasons.map(function (r) { return h("li", null, r); }))
        )
      );
    }

    var contacts = Array.isArray(s.contacts) ? s.contacts : [];
    if (contacts.length) {
      card.appendChild(h("div", { class: "spro-contacts" }, contacts.map(function (c) { return self.renderContact(c, s); })));
    } else {
      card.appendChild(h("p", { class: "spro-note" }, T.noContact));
    }
    var referents = Array.isArray(s.referents) ? s.referents : [];
    if (referents.length) {
      card.appendChild(
        h(
          "div",
          { class: "spro-referents", role: "group", "aria-label": T.referentsLabel },
          referents.map(function (r) {
            var tel = r.phone ? telHref(r.phone) : null;
            var mail = mailHref(r.email);
            return h(
              "div",
              { class: "spro-contact spro-referent" },
              h("p", { class: "spro-contact__label" }, T.referent + referentLine(r)),
              r.phone
                ? h("p", { class: "spro-contact__line" }, icon("phone"), tel ? h("a", { href: tel }, srOnly(T.phone), r.phone) : h("span", null, r.phone))
                : null,
              r.email
                ? h("p", { class: "spro-contact__line" }, icon("mail"), mail ? h("a", { href: mail }, srOnly(T.email), r.email) : h("span", null, r.email))
                : null
            );
          })
        )
      );
    }
    if (s.freshness && s.freshness.text) {
      card.appendChild(
        h("p", { class: "spro-freshness" + (s.freshness.verified ? " spro-freshness--verified" : "") }, capitalise(s.freshness.text) + ".")
      );
    }

    var excerpts = Array.isArray(s.excerpts) ? s.excerpts : [];
    if (excerpts.length) {
      card.appendChild(
        h(
          "details",
          { class: "spro-details" },
          h("summary", null, T.excerpts(excerpts.length)),
          h(
            "ul",
            { class: "spro-excerpts" },
            excerpts.map(function (e) {
              var href = webHref(e.url);
              var title = e.source_title || e.source_id || "";
              return h(
                "li",
                null,
                h("blockquote", { class: "spro-excerpt__text" }, e.text || ""),
                h(
                  "p",
                  { class: "spro-excerpt__source" },
                  T.excerptSource,
                  href ? h("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, title, srOnly(T.newWindow)) : title
                )
              );
            })
          )
        )
      );
    }

    // Actions: copy, report.
    var status = h("p", { class: "spro-status", role: "status" });
    var formSlot = h("div");
    var actions = h(
      "div",
      { class: "spro-card__actions" },
      h(
        "button",
        {
          class: "spro-btn spro-btn--secondary spro-btn--sm",
          type: "button",
          onclick: function () { self.copy(ficheText(s), status, formSlot); },
        },
        icon("copy", true),
        T.copy,
        srOnly(" : " + s.name)
      )
    );
    var reports = [];
    var report = function (kind, text, title) {
      var button = h(
        "button",
        {
          class: "spro-btn spro-btn--tertiary spro-btn--sm",
          type: "button",
          "aria-expanded": "false",
          onclick: function () {
            self.reportForm(kind, title, s, answer, formSlot, status, button, reports);
          },
        },
        icon("alert", true),
        text,
        srOnly(" : " + s.name)
      );
      reports.push(button);
      actions.appendChild(button);
    };
    if (contacts.length) report("contact_errone", T.reportContact, T.reportContactTitle);
    report("non_pertinent", T.reportIrrelevant, T.reportIrrelevantTitle);
    card.appendChild(actions);
    card.appendChild(formSlot);
    card.appendChild(status);
    return card;
  };

  Widget.prototype.renderContact = function (c, s) {
    var national = isNational(c);
    var lines = [];
    if (national) lines.push(h("p", { class: "spro-contact__kind" }, icon("globe", true), T.nationalKind));
    if (c.label && (national || c.label !== s.name)) lines.push(h("p", { class: "spro-contact__label" }, c.label));
    var address = fullAddress(c);
    if (address) lines.push(h("p", { class: "spro-contact__line" }, icon("pin"), h("span", null, srOnly(T.address), address)));
    if (c.phone) {
      var tel = telHref(c.phone);
      var prefix = national ? h("span", { class: "spro-contact__what" }, T.nationalPhone) : null;
      var number = tel
        ? h("a", { href: tel }, national ? null : srOnly(T.phone), c.phone)
        : h("span", null, national ? null : srOnly(T.phone), c.phone);
      var note = c.phone_note ? h("span", { class: "spro-contact__note" }, " (" + c.phone_note + ")") : null;
      lines.push(h("p", { class: "spro-contact__line spro-contact__phone" }, icon("phone"), h("span", null, prefix, number, note)));
    }
    var mail = mailHref(c.email);
    if (c.email) {
      lines.push(
        h(
          "p",
          { class: "spro-contact__line" },
          icon("mail"),
          mail ? h("a", { href: mail }, srOnly(T.email), c.email) : h("span", null, srOnly(T.email), c.email)
        )
      );
    }
    var site = webHref(c.url);
    if (site) {
      lines.push(
        h(
          "p",
          { class: "spro-contact__line" },
          icon("globe"),
          h(
            "a",
            { href: site, target: "_blank", rel: "noopener noreferrer", class: national ? "spro-contact__locator" : null },
            national ? nationalLinkText(c) : T.website,
            srOnly(T.newWindow + " : " + site)
          )
        )
      );
    }
    var hours = Array.isArray(c.hours) ? c.hours : [];
    if (hours.length) {
      lines.push(
        h(
          "details",
          { class: "spro-hours" },
          h("summary", null, T.hours),
          h("ul", { class: "spro-hours__list" }, hours.map(function (line) { return h("li", null, line); }))
        )
      );
    }
    if (c.stale) lines.push(h("p", { class: "spro-badge spro-badge--stale" }, icon("alert", true), T.stale));
    lines.push(h("p", { class: "spro-source" }, contactSource(c)));
    return h(
      "div",
      {
        class: "spro-contact" + (national ? " spro-contact--national" : ""),
        "data-kind": national ? "national" : "site",
        "data-department": c.department || "",
      },
      lines
    );
  };

  // --- copy -------------------------------------------------------------------------------------

  Widget.prototype.copy = function (text, status, slot) {
    var self = this;
    var done = function () {
      self.setStatus(status, T.copied, true);
    };
    var fallback = function () {
      // execCommand on a hidden textarea, then, failing that, a visible text to copy by hand.
      var area = h("textarea", { class: "spro-sr-only", readonly: true, "aria-hidden": "true", tabindex: "-1" });
      area.value = text;
      self.frame.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      area.remove();
      if (ok) return done();
      clear(slot);
      var id = self.id("manual" + Date.now());
      var manual = h("textarea", { id: id, class: "spro-input", rows: "8", readonly: true });
      manual.value = text;
      slot.appendChild(h("div", { class: "spro-form" }, h("label", { class: "spro-label", for: id }, T.copyManualLabel), manual));
      self.setStatus(status, T.copyManual, false);
      manual.focus();
      manual.select();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  };

  Widget.prototype.setStatus = function (status, text, ok) {
    status.className = "spro-status " + (ok ? "spro-status--ok" : "spro-status--error");
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 30);
  };

  // --- feedback ---------------------------------------------------------------------------------

  Widget.prototype.feedback = function (payload) {
    return this.api.call("POST", "/api/feedback", payload);
  };

  Widget.prototype.reportForm = function (kind, title, s, answer, slot, status, button, buttons) {
    var self = this;
    if (button.getAttribute("aria-expanded") === "true") {
      clear(slot);
      button.setAttribute("aria-expanded", "false");
      return;
    }
    buttons.forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    clear(slot);
    var id = this.id("report" + Date.now());
    var reason = h("textarea", { id: id, class: "spro-input", rows: "2", maxlength: "1000" });
    var fieldId = id + "-field";
    var field = kind === "contact_errone"
      ? h("select", { id: fieldId, class: "spro-input" }, T.reportFields.map(function (f) { return h("option", { value: f[0] }, f[1]); }))
      : null;
    var submit = h("button", { class: "spro-btn spro-btn--sm", type: "submit" }, T.reportSend);
    var cancel = function () {
      clear(slot);
      button.setAttribute("aria-expanded", "false");
      button.focus();
    };
    var form = h(
      "form",
      {
        class: "spro-form",
        "aria-label": title + " : " + s.name,
        novalidate: true,
        onkeydown: function (event) {
          if (event.key === "Escape") {
            event.preventDefault();
            cancel();
          }
        },
        onsubmit: function (event) {
          event.preventDefault();
          submit.disabled = true;
          var payload = {
            conversation_id: answer.conversation_id,
            turn: answer.turn,
            rating: "down",
            kind: kind,
            structure_id: s.id,
          };
          var text = reason.value.trim();
          if (text) payload.reason = text;
          if (field && field.value) payload.field = field.value;
          self.feedback(payload).then(
            function () {
              clear(slot);
              buttons.forEach(function (b) {
                b.disabled = true;
                b.setAttribute("aria-expanded", "false");
              });
              self.setStatus(status, T.reportDone, true);
              status.setAttribute("tabindex", "-1");
              status.focus();
            },
            function (error) {
              submit.disabled = false;
              self.setStatus(status, T.feedbackError + (error.message || T.serverError), false);
            }
          );
        },
      },
      h("p", { class: "spro-section-label" }, title),
      field ? h("label", { class: "spro-label", for: fieldId }, T.reportField) : null,
      field,
      h("label", { class: "spro-label", for: id }, T.reportReason),
      reason,
      h(
        "div",
        { class: "spro-form__row" },
        submit,
        h("button", { class: "spro-btn spro-btn--tertiary spro-btn--sm", type: "button", onclick: cancel }, T.cancel)
      )
    );
    slot.appendChild(form);
    button.setAttribute("aria-expanded", "true");
    (field || reason).focus();
  };

  Widget.prototype.renderRating = function (answer, n) {
    var self = this;
    var qid = this.id("rate" + n);
    var status = h("p", { class: "spro-status", role: "status" });
    var slot = h("div");
    var up, down;
    var lock = function (chosen) {
      [up, down].forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-pressed", b === chosen ? "true" : "false");
      });
    };
    var post = function (rating, reason, chosen, onError) {
      var payload = { conversation_id: answer.conversation_id, turn: answer.turn, rating: rating };
      if (reason) payload.reason = reason;
      return self.feedback(payload).then(
        function () {
          lock(chosen);
          clear(slot);
          self.setStatus(status, T.rateDone, true);
          status.setAttribute("tabindex", "-1");
          status.focus();
        },
        function (error) {
          self.setStatus(status, T.feedbackError + (error.message || T.serverError), false);
          if (onError) onError();
        }
      );
    };
    up = h(
      "button",
      {
        class: "spro-btn spro-btn--tertiary spro-btn--sm",
        type: "button",
        "aria-pressed": "false",
        "aria-label": T.rateUpLabel,
        onclick: function () {
          up.disabled = true;
          post("up", null, up, function () { up.disabled = false; });
        },
      },
      icon("thumbUp", true),
      T.rateUp
    );
    down = h(
      "button",
      {
        class: "spro-btn spro-btn--tertiary spro-btn--sm",
        type: "button",
        "aria-pressed": "false",
        "aria-expanded": "false",
        "aria-label": T.rateDownLabel,
        onclick: function () {
          if (down.getAttribute("aria-expanded") === "true") {
            clear(slot);
            down.setAttribute("aria-expanded", "false");
            return;
          }
          var id = self.id("why" + n);
          var reason = h("textarea", { id: id, class: "spro-input", rows: "2", maxlength: "1000" });
          var submit = h("button", { class: "spro-btn spro-btn--sm", type: "submit" }, T.rateSend);
          var cancel = function () {
            clear(slot);
            down.setAttribute("aria-expanded", "false");
            down.focus();
          };
          clear(slot);
          slot.appendChild(
            h(
              "form",
              {
                class: "spro-form",
                novalidate: true,
                "aria-label": T.rateForm,
                onkeydown: function (event) {
                  if (event.key === "Escape") {
                    event.preventDefault();
                    cancel();
                  }
                },
                onsubmit: function (event) {
                  event.preventDefault();
                  submit.disabled = true;
                  post("down", reason.value.trim(), down, function () { submit.disabled = false; });
                },
              },
              h("label", { class: "spro-label", for: id }, T.rateWhy),
              reason,
              h(
                "div",
                { class: "spro-form__row" },
                submit,
                h("button", { class: "spro-btn spro-btn--tertiary spro-btn--sm", type: "button", onclick: cancel }, T.cancel)
              )
            )
          );
          down.setAttribute("aria-expanded", "true");
          reason.focus();
        },
      },
      icon("thumbDown", true),
      T.rateDown
    );
    return h(
      "div",
      null,
      h(
        "div",
        { class: "spro-rate", role: "group", "aria-labelledby": qid },
        h("span", { class: "spro-rate__label", id: qid }, T.rateQuestion),
        up,
        down
      ),
      slot,
      status
    );
  };

  // --- the understood case, as editable chips ----------------------------------------------------

  Widget.prototype.renderCase = function () {
    var self = this;
    var u = this.understood;
    if (!this.caseBar) return;
    clear(this.caseBar);
    if (!u) return;
    var n = this.caseBar.getAttribute("data-answer");
    var chips = [];
    var chip = function (slot, text, known) {
      var name = known ? text + T.caseEdit : T.caseAdd + text;
      var button = h(
        "button",
        {
          class: "spro-tag" + (known ? "" : " spro-tag--add"),
          type: "button",
          "data-slot": slot,
          "aria-label": name,
          "aria-expanded": "false",
          onclick: function () { self.editSlot(slot, button); },
        },
        known ? text : h("span", null, icon("add", true), " ", text),
        known ? icon("edit", true) : null
      );
      chips.push(h("li", null, button));
    };
    if (u.age !== null && u.age !== undefined) chip("age", T.caseAge + " : " + T.years(u.age), true);
    else chip("age", T.caseAge, false);
    if (u.status) chip("status", T.caseStatus + " : " + label("statuses", u.status), true);
    else chip("status", T.caseStatus, false);
    var needs = u.needs || [];
    if (needs.length) {
      chip(
        "need",
        (needs.length > 1 ? T.caseNeeds : T.caseNeed) + " : " + needs.map(function (c) { return label("needs", c); }).join(", "),
        true
      );
    } else chip("need", T.caseNeed, false);
    if (u.commune && u.commune.name) chip("place", T.casePlace + " : " + u.commune.name, true);
    else if (u.department) chip("place", T.caseDepartment + " : " + departmentLabel(u.department), true);
    else chip("place", T.casePlace, false);
    if (needs.length) chip("need-add", T.caseOtherNeed, false);
    (u.flags || []).forEach(function (f) {
      var name = T.caseFlag + " : " + label("flags", f);
      var button = h(
        "button",
        {
          class: "spro-tag",
          type: "button",
          "data-slot": "flag",
          "data-code": f,
          "aria-label": name + T.caseEdit,
          "aria-expanded": "false",
          onclick: function () { self.editSlot("flag", button, f); },
        },
        label("flags", f),
        icon("edit", true)
      );
      chips.push(h("li", null, button));
    });
    this.caseEditor = h("div", { class: "spro-editor" });
    this.caseBar.appendChild(h("p", { class: "spro-case__title", id: this.id("case-title" + n) }, T.caseTitle));
    this.caseBar.appendChild(h("ul", { class: "spro-tags" }, chips));
    this.caseBar.appendChild(this.caseEditor);
  };

  /** Take need or flag `code` off the understood case: a message that says it, and the code for the API. */
  Widget.prototype.removeCode = function (table, code) {
    return this.send(T.sayRemove(label(table, code)), { extra: { remove: [code] } });
  };

  Widget.prototype.editSlot = function (slot, button, code) {
    var self = this;
    var u = this.understood || {};
    var editor = this.caseEditor;
    var wasOpen = button.getAttribute("aria-expanded") === "true";
    this.caseBar.querySelectorAll("button[data-slot]").forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    clear(editor);
    if (wasOpen) return;
    var id = this.id("edit-" + slot);
    var errorId = this.id("edit-error");
    var closeEditor = function () {
      clear(editor);
      button.setAttribute("aria-expanded", "false");
      button.focus();
    };
    var removeButton = function (table, c, text) {
      return h(
        "button",
        {
          class: "spro-btn spro-btn--secondary spro-btn--sm",
          type: "button",
          "data-spro-send": "true",
          onclick: function () { if (self.removeCode(table, c)) clear(editor); },
        },
        icon("close", true),
        text
      );
    };
    if (slot === "flag") {
      var flagForm = h(
        "div",
        {
          class: "spro-form",
          role: "group",
          "aria-label": T.caseFlag + " : " + label("flags", code),
          onkeydown: function (event) {
            if (event.key === "Escape") {
              event.preventDefault();
              closeEditor();
            }
          },
        },
        h("p", { class: "spro-section-label" }, T.caseFlag + " : " + label("flags", code)),
        h(
          "div",
          { class: "spro-form__row" },
          removeButton("flags", code, T.removeFlag(label("flags", code))),
          h("button", { class: "spro-btn spro-btn--tertiary spro-btn--sm", type: "button", onclick: closeEditor }, T.cancel)
        )
      );
      editor.appendChild(flagForm);
      button.setAttribute("aria-expanded", "true");
      this.updateComposer();
      flagForm.querySelector("button").focus();
      return;
    }
    var control, labelText, hint = null;
    var options = function (table, selected) {
      var list = [h("option", { value: "" }, T.editChoose)];
      Object.keys(LABELS[table] || {}).forEach(function (code) {
        list.push(h("option", { value: code, selected: code === selected ? true : null }, LABELS[table][code]));
      });
      return list;
    };
    if (slot === "age") {
      labelText = T.editAgeLabel;
      // A text field with a numeric keyboard: select() (typing replaces the old age) works on it, not on type=number.
      control = h("input", {
        id: id, class: "spro-input", type: "text", inputmode: "numeric", maxlength: "3", autocomplete: "off",
        value: u.age !== null && u.age !== undefined ? String(u.age) : "",
      });
    } else if (slot === "status") {
      labelText = T.editStatusLabel;
      control = h("select", { id: id, class: "spro-input" }, options("statuses", u.status));
    } else if (slot === "need" || slot === "need-add") {
      labelText = slot === "need" ? T.editNeedLabel : T.editNeedAddLabel;
      control = h("select", { id: id, class: "spro-input" }, options("needs", slot === "need" && u.needs && u.needs.length === 1 ? u.needs[0] : null));
    } else {
      labelText = T.editPlaceLabel;
      hint = this.id("edit-hint");
      var listId = this.id("departments");
      control = h("input", {
        id: id, class: "spro-input", type: "text", maxlength: "100", autocomplete: "off", list: listId,
        "aria-describedby": hint,
        value: u.commune && u.commune.name ? u.commune.name : u.department ? departmentLabel(u.department) : "",
      });
      editor.appendChild(
        h("datalist", { id: listId }, Object.keys(LABELS.departments || {}).map(function (code) {
          return h("option", { value: departmentLabel(code) });
        }))
      );
    }
    var error = h("p", { class: "spro-error-text", id: errorId, hidden: true });
    var close = function () {
      clear(editor);
      button.setAttribute("aria-expanded", "false");
      button.focus();
    };
    var fail = function (text) {
      error.textContent = text;
      error.hidden = false;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", (hint ? hint + " " : "") + errorId);
      control.focus();
    };
    var form = h(
      "form",
      {
        class: "spro-form",
        novalidate: true,
        onkeydown: function (event) {
          if (event.key === "Escape") {
            event.preventDefault();
            close();
          }
        },
        onsubmit: function (event) {
          event.preventDefault();
          var value = (control.value || "").trim();
          var message;
          if (slot === "age") {
            if (!/^\d{1,3}$/.test(value) || parseInt(value, 10) > 120) return fail(T.editAgeInvalid);
            message = T.sayAge(parseInt(value, 10));
          } else if (slot === "status") {
            if (!value) return fail(T.editEmpty);
            message = T.sayStatus(LABELS.statuses[value]);
          } else if (slot === "need" || slot === "need-add") {
            if (!value) return fail(T.editEmpty);
            message = slot === "need" ? T.sayNeed(LABELS.needs[value]) : T.sayNeedAdd(LABELS.needs[value]);
          } else {
            if (!value) return fail(T.editEmpty);
            var department = Object.keys(LABELS.departments).filter(function (code) {
              return departmentLabel(code).toLowerCase() === value.toLowerCase();
            })[0];
            message = department ? departmentLabel(department) : T.sayPlace(value);
          }
          if (self.send(message)) clear(editor);
        },
      },
      h("label", { class: "spro-label", for: id }, labelText),
      hint ? h("span", { class: "spro-hint", id: hint }, T.editPlaceHint) : null,
      control,
      error,
      h(
        "div",
        { class: "spro-form__row" },
        h("button", { class: "spro-btn spro-btn--sm", type: "submit", "data-spro-send": "true" }, T.editApply),
        h("button", { class: "spro-btn spro-btn--tertiary spro-btn--sm", type: "button", onclick: close }, T.cancel)
      )
    );
    editor.appendChild(form);
    if (slot === "need" && u.needs && u.needs.length) {
      form.appendChild(
        h(
          "div",
          { class: "spro-form__row", role: "group", "aria-labelledby": this.id("remove-needs") },
          h("span", { class: "spro-hint", id: this.id("remove-needs") }, T.removeGroup),
          u.needs.map(function (need) { return removeButton("needs", need, T.removeNeed(label("needs", need))); })
        )
      );
    }
    button.setAttribute("aria-expanded", "true");
    this.updateComposer();
    control.focus();
    // The old value is selected: typing replaces it ("Villeurbanne", not "LyonVilleurbanne").
    if (control.tagName === "INPUT") control.select();
  };

  // ---------------------------------------------------------------------------------------------
  // Mounting
  // ---------------------------------------------------------------------------------------------

  function scriptOrigin(script) {
    try {
      return new URL(script.src, document.baseURI).origin;
    } catch (e) {
      return window.location.origin;
    }
  }

  function optionsFrom(script) {
    var data = (script && script.dataset) || {};
    return {
      api: data.api || (script && script.src ? scriptOrigin(script) : window.location.origin),
      container: data.container || null,
      department: data.department || null,
      commune: data.commune || null,
      title: data.title || null,
      open: data.open === "true",
    };
  }

  /** Mount a widget: inline in `options.container` (element or selector), else as a launcher + panel. */
  function mount(options) {
    options = options || {};
    if (!options.api) options.api = window.location.origin;
    var container = options.container;
    if (typeof container === "string") {
      var selector = container;
      container = document.querySelector(selector);
      if (!container && window.console) console.warn("Expert SPRO : " + selector + " introuvable, bouton flottant affiché.");
    }
    var host = document.createElement("expert-spro");
    host.setAttribute("data-version", VERSION);
    if (container) {
      options.container = container;
      container.appendChild(host);
    } else {
      options.container = null;
      document.body.appendChild(host);
    }
    var widget = new Widget(host, options);
    if (options.open) widget.open();
    return {
      open: function () { widget.open(); },
      close: function () { widget.close(); },
      reset: function () { widget.reset(); },
      send: function (text) { return widget.send(text); },
      element: host,
    };
  }

  /** Mount from a <script data-…> tag, once the page body exists. */
  function mountFromScript(script) {
    if (script.getAttribute("data-manual") === "true") return;
    var run = function () { window.ExpertSPRO.instances.push(mount(optionsFrom(script))); };
    if (document.body) run();
    else document.addEventListener("DOMContentLoaded", run, { once: true });
  }

  window.ExpertSPRO = { mount: mount, mountFromScript: mountFromScript, version: VERSION, instances: [] };
  if (currentScript) mountFromScript(currentScript);
})();
