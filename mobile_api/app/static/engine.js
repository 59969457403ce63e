// The checklist engine on the phone: the same rules as the server's Python engine
// (checklists/engine.py, answers.py, expressions.py, messages.py), so a visit can be worked
// offline and the server agrees with what the phone showed. tests/browser/test_engine_crosscheck.py
// runs thousands of random answer sequences through both and compares the results exactly.
// Plain ES module, no dependencies, no build step.
//
// ---------------------------------------------------------------------------- interface
//
// A template is the JSON the phone receives in the day bundle (`GET /mobile/v1/day`,
// `templates["<key>@<version>"]`): the template's canonical JSON, defaults left out (a step
// without `required` is required, a photo step without `min_count` needs 1, ...).
//
// An answer is `{step_id, value?, photo_ids?, answered_at?, location?}`:
//   value        by step kind: confirm true; yes_no true|false; choice the option's value;
//                text, person_name a non-blank string; number a number; signature the
//                signature id; serial [{value, method: "scanned"|"typed"}]; photo and
//                geo_check null (photos in photo_ids, the position in location)
//   photo_ids    string[] (default [])
//   answered_at  RFC 3339 with a UTC offset, e.g. "2026-12-05T09:12:03.120Z" (or null)
//   location     {lat, lon, accuracy_m?} (or null)
// `answers` maps step id -> answer (the latest answer per step). The server builds the same
// answer from a `checklist_answer` operation: its payload's step_id, value and photo_ids, the
// operation's device_time as answered_at and the operation's location.
//
/**
 * @typedef {"ru"|"kk"|"en"} Lang
 * @typedef {{lat: number, lon: number}} GeoPoint
 * @typedef {{code: "phase_gate"|"outcome_gate"|"required_step"|"automatic_outcome",
 *            message: string, step_id?: string, phase?: string, outcome?: string}} BlockingReason
 *   (keys whose value would be null are left out, as the server's JSON does)
 * @typedef {{id: string, title: string, status: "done"|"open"|"locked",
 *            required_total: number, required_done: number}} PhaseState
 * @typedef {{step_id: string, code: string, message: string}} AnswerIssue
 * @typedef {{step_id: string, code: "outside_radius"|"low_accuracy"|"site_unknown",
 *            message: string, distance_m?: number, radius_m?: number}} Flag
 * @typedef {{score: number, required: number, compliant: number, out_of_order: string[],
 *            missing_evidence: {step_id: string, missing: string[]}[]}} Compliance
 * @typedef {{
 *   template_key: string, template_version: number, content_hash: string|null,
 *   current_phase: string|null,          first phase with work left (null: all done)
 *   phases: PhaseState[],
 *   visible_steps: string[],             steps whose condition holds, template order
 *   answered_steps: string[],            steps with a counted answer
 *   next_required_steps: string[],       what to do now (empty while the phase is locked)
 *   missing_required_steps: string[],
 *   completion_allowed: boolean,
 *   allowed_outcomes: string[],          outcomes the technician may declare now
 *   requested_outcome: string|null,      the `outcome` option
 *   outcome: string|null,                the outcome in effect (requested once allowed, else automatic)
 *   final: boolean,
 *   incident: {kind: string, notify: string[], fallback_notify?: string[]}|null,
 *   blocking_reasons: BlockingReason[],  why the requested outcome (default: completion) cannot be recorded
 *   compliance: Compliance,
 *   rejected_answers: AnswerIssue[],     answers present but not counted, and why
 *   flags: Flag[],                       accepted answers worth a second look (far from the site)
 * }} ChecklistState
 *   Exactly the fields and order of the server's `ChecklistState` (GET .../checklist `state`).
 */
//
// evaluate(template, answers, {lang = "ru", site = null, outcome = null, contentHash = null})
//     -> ChecklistState. Synchronous and pure. `site` enables the geo_check distance test;
//     `outcome` is the outcome the technician declared (null while in progress). Throws an
//     Error named "UnknownOutcome" when the template has no such outcome. `content_hash` in the
//     result is `contentHash` (the visit's pin carries it; the phone does not hash templates).
//
// validateAnswer(template, answersSoFar, answer, {lang = "ru", site = null, outcome = null})
//     -> null when `answer` may be recorded on top of `answersSoFar` (an earlier answer to the
//     same step counts as replaced), else {code, step_id, message}: what the server's
//     validate_answer raises as AnswerRejected (codes: unknown_step, step_hidden, phase_locked,
//     outcome_not_declared, wrong_type, invalid_value, out_of_range, invalid_option,
//     empty_value, too_long, photo_count, invalid_photo_ids, serial_empty, serial_count,
//     missing_location, invalid_location, invalid_timestamp; `rejected_answers` of evaluate()
//     may also say step_id_mismatch, for an answer stored under another step's key).
//
// checkStepAnswer(step, answer, {lang = "ru"}) -> null or {code, step_id, message}: only the
//     per-kind check of one answer against its step (value, photo count, evidence shapes),
//     without gates or conditions; for validating input as it is typed.
//
// stepsOf(template) -> Map(step id -> {step, phase: id|null, outcome: id|null}) in template
//     order (phase steps, then outcome steps); `step` has its kind's defaults filled in.
// render(key, lang, params) -> string; MESSAGES: the engine's own texts in ru, kk and en.
// formatNumber(x), pyRound(x, ndigits): Python's number formatting and rounding (half to even).

// ---------------------------------------------------------------------------- messages

export const MESSAGES = {
  unknown_step: {
    ru: "Шага «{step}» нет в этом чек-листе.",
    kk: "Бұл тексеру парағында «{step}» қадамы жоқ.",
    en: "Step “{step}” is not in this checklist.",
  },
  step_hidden: {
    ru: "Шаг «{title}» не показывается при текущих ответах.",
    kk: "«{title}» қадамы қазіргі жауаптар бойынша көрсетілмейді.",
    en: "Step “{title}” is not shown for the current answers.",
  },
  phase_locked: {
    ru: "Этап «{phase}» ещё недоступен: {detail}",
    kk: "«{phase}» кезеңі әлі қолжетімсіз: {detail}",
    en: "Phase “{phase}” is not open yet: {detail}",
  },
  outcome_not_declared: {
    ru: "Шаг «{title}» заполняется только при исходе «{outcome}».",
    kk: "«{title}» қадамы тек «{outcome}» нәтижесінде толтырылады.",
    en: "Step “{title}” is recorded only with the outcome “{outcome}”.",
  },
  wrong_type: {
    ru: "Шаг «{title}»: ожидается {expected}.",
    kk: "«{title}» қадамы: {expected} күтіледі.",
    en: "Step “{title}” expects {expected}.",
  },
  confirm_only_true: {
    ru: "«{title}»: подтверждение бывает только «да»; невыполненный шаг оставьте без ответа.",
    kk: "«{title}»: растау тек «иә» бола алады; орындалмаған қадамды жауапсыз қалдырыңыз.",
    en: "“{title}”: a confirmation can only be true; leave an undone step unanswered.",
  },
  not_finite: {
    ru: "«{title}»: значение должно быть конечным числом.",
    kk: "«{title}»: мән ақырлы сан болуы керек.",
    en: "“{title}”: the value must be a finite number.",
  },
  below_min: {
    ru: "«{title}»: {value} меньше минимума {min} {unit}.",
    kk: "«{title}»: {value} ең аз мәннен ({min} {unit}) кем.",
    en: "“{title}”: {value} is below the minimum of {min} {unit}.",
  },
  above_max: {
    ru: "«{title}»: {value} больше максимума {max} {unit}.",
    kk: "«{title}»: {value} ең көп мәннен ({max} {unit}) асады.",
    en: "“{title}”: {value} is above the maximum of {max} {unit}.",
  },
  invalid_option: {
    ru: "«{title}»: варианта «{value}» нет (варианты: {options}).",
    kk: "«{title}»: «{value}» нұсқасы жоқ (нұсқалар: {options}).",
    en: "“{title}”: “{value}” is not an option (options: {options}).",
  },
  empty_value: {
    ru: "«{title}»: ответ не может быть пустым.",
    kk: "«{title}»: жауап бос болмауы керек.",
    en: "“{title}”: the answer cannot be blank.",
  },
  too_long: {
    ru: "«{title}»: не длиннее {max} символов.",
    kk: "«{title}»: {max} таңбадан аспауы керек.",
    en: "“{title}”: at most {max} characters.",
  },
  photo_count: {
    ru: "«{title}»: нужно фото от {min} до {max}, получено {count}.",
    kk: "«{title}»: {min}–{max} фотосурет қажет, {count} алынды.",
    en: "“{title}”: needs {min} to {max} photos, got {count}.",
  },
  invalid_photo_ids: {
    ru: "«{title}»: идентификаторы фото должны быть непустыми и без повторов.",
    kk: "«{title}»: фотосурет идентификаторлары бос емес және қайталанбауы керек.",
    en: "“{title}”: photo ids must be non-empty and listed once each.",
  },
  serial_empty: {
    ru: "«{title}»: серийный номер пустой.",
    kk: "«{title}»: сериялық нөмір бос.",
    en: "“{title}”: a serial number is empty.",
  },
  serial_duplicate: {
    ru: "«{title}»: серийный номер {value} указан дважды.",
    kk: "«{title}»: {value} сериялық нөмірі екі рет көрсетілген.",
    en: "“{title}”: serial number {value} is listed twice.",
  },
  serial_count: {
    ru: "«{title}»: нужно серийных номеров от {min} до {max}, получено {count}.",
    kk: "«{title}»: {min}–{max} сериялық нөмір қажет, {count} алынды.",
    en: "“{title}”: needs {min} to {max} serial numbers, got {count}.",
  },
  missing_location: {
    ru: "«{title}»: нужно местоположение устройства.",
    kk: "«{title}»: құрылғының орналасқан жері қажет.",
    en: "“{title}”: the device location is required.",
  },
  invalid_location: {
    ru: "«{title}»: координаты или точность вне допустимого диапазона.",
    kk: "«{title}»: координаттар немесе дәлдік рұқсат етілген ауқымнан тыс.",
    en: "“{title}”: coordinates or accuracy are out of range.",
  },
  naive_timestamp: {
    ru: "«{title}»: время ответа должно содержать смещение от UTC.",
    kk: "«{title}»: жауап уақыты UTC-ден ығысуды қамтуы керек.",
    en: "“{title}”: answered_at must carry a UTC offset.",
  },
  step_id_mismatch: {
    ru: "Ответ записан под ключом «{key}», но относится к шагу «{step}».",
    kk: "Жауап «{key}» кілтімен сақталған, бірақ «{step}» қадамына жатады.",
    en: "The answer is stored under “{key}” but names step “{step}”.",
  },
  outside_radius: {
    ru: "Отметка в {distance} м от адреса объекта (допустимо {radius} м).",
    kk: "Белгі нысан мекенжайынан {distance} м қашықтықта (рұқсат етілгені {radius} м).",
    en: "Position is {distance} m from the site (allowed {radius} m).",
  },
  low_accuracy: {
    ru: "Точность местоположения {accuracy} м хуже допустимого радиуса {radius} м.",
    kk: "Орналасу дәлдігі {accuracy} м, бұл рұқсат етілген {radius} м радиустан нашар.",
    en: "Location accuracy of {accuracy} m is worse than the allowed radius of {radius} m.",
  },
  site_unknown: {
    ru: "Координаты объекта неизвестны, присутствие на месте не проверено.",
    kk: "Нысанның координаттары белгісіз, орында болуы тексерілмеді.",
    en: "The site position is unknown; presence was not checked.",
  },
  gate_unanswered: {
    ru: "сначала выполните шаг «{title}».",
    kk: "алдымен «{title}» қадамын орындаңыз.",
    en: "first complete “{title}”.",
  },
  gate_value: {
    ru: "для шага «{title}» нужен ответ «{expected}».",
    kk: "«{title}» қадамына «{expected}» жауабы қажет.",
    en: "“{title}” must be “{expected}”.",
  },
  phase_gate: {
    ru: "Этап «{phase}» недоступен: {detail}",
    kk: "«{phase}» кезеңі қолжетімсіз: {detail}",
    en: "Phase “{phase}” is locked: {detail}",
  },
  outcome_gate: {
    ru: "Исход «{outcome}»: {detail}",
    kk: "«{outcome}» нәтижесі: {detail}",
    en: "Outcome “{outcome}”: {detail}",
  },
  required_step: {
    ru: "Не выполнен обязательный шаг «{title}».",
    kk: "«{title}» міндетті қадамы орындалмаған.",
    en: "Required step “{title}” is not done.",
  },
  automatic_outcome: {
    ru: "Действует исход «{outcome}»: {detail}",
    kk: "«{outcome}» нәтижесі күшінде: {detail}",
    en: "Outcome “{outcome}” is in effect: {detail}",
  },
  yes: { ru: "Да", kk: "Иә", en: "Yes" },
  no: { ru: "Нет", kk: "Жоқ", en: "No" },
  expects_confirm: { ru: "подтверждение (true)", kk: "растау (true)", en: "true" },
  expects_yes_no: { ru: "да или нет", kk: "иә немесе жоқ", en: "yes or no" },
  expects_choice: { ru: "один из вариантов", kk: "нұсқалардың бірі", en: "one option" },
  expects_text: { ru: "текст", kk: "мәтін", en: "text" },
  expects_number: { ru: "число", kk: "сан", en: "a number" },
  expects_person_name: { ru: "имя", kk: "аты-жөні", en: "a name" },
  expects_photo: {
    ru: "фото в photo_ids (value пустое)",
    kk: "photo_ids ішіндегі фотосуреттер (value бос)",
    en: "photos in photo_ids (value null)",
  },
  expects_signature: {
    ru: "идентификатор подписи",
    kk: "қолтаңба идентификаторы",
    en: "a signature id",
  },
  expects_geo_check: {
    ru: "местоположение в location (value пустое)",
    kk: "location ішіндегі орналасқан жер (value бос)",
    en: "a position in location (value null)",
  },
  expects_serial: {
    ru: "список серийных номеров",
    kk: "сериялық нөмірлер тізімі",
    en: "a list of serial numbers",
  },
};

/** The message `key` in `lang` with its {placeholders} filled in (Python's str.format). */
export function render(key, lang, params = {}) {
  return MESSAGES[key][lang].replace(/\{(\w+)\}/g, (_, name) => toText(params[name]));
}

// Numeric parameters are counts and lengths (ints in Python); decimals come preformatted.
function toText(value) {
  return String(value);
}

// ---------------------------------------------------------------------------- numbers

// Exact decimal digits of a finite double: [sign, digits, exponent] where the value is
// 0.d1d2d3... x 10^exponent and digits has no trailing zeros ("" for zero).
function exactDecimal(x) {
  const negative = x < 0 || Object.is(x, -0);
  const text = Math.abs(x).toExponential(99); // ties only matter below 17 digits; 100 suffice
  const [mantissa, exp] = text.split("e");
  let digits = mantissa.replace(".", "").replace(/0+$/, "");
  const exponent = Number(exp) + 1;
  if (digits === "") return [negative, "", 0];
  return [negative, digits, exponent];
}

// Round a digit string to `count` digits, half to even; returns [digits, carried] where
// carried means the rounding added a digit in front (999.. -> 1000..).
function roundDigits(digits, count) {
  if (count < 0) return ["", false];
  if (digits.length <= count) return [digits.padEnd(count, "0"), false];
  const head = digits.slice(0, count);
  const rest = digits.slice(count);
  let up;
  if (rest[0] > "5") up = true;
  else if (rest[0] < "5") up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else up = count > 0 && Number(head[count - 1]) % 2 === 1;
  if (!up) return [head, false];
  const chars = head.split("");
  let i = chars.length - 1;
  while (i >= 0 && chars[i] === "9") {
    chars[i] = "0";
    i -= 1;
  }
  if (i < 0) return ["1" + chars.join(""), true];
  chars[i] = String(Number(chars[i]) + 1);
  return [chars.join(""), false];
}

/** Python's round(x, ndigits) for a float: half to even on the exact binary value. */
export function pyRound(x, ndigits = 0) {
  if (!Number.isFinite(x)) return x;
  const [negative, digits, exponent] = exactDecimal(x);
  if (digits === "") return x;
  // Keep the digits before the decimal point plus `ndigits` after it.
  const keep = exponent + ndigits;
  if (keep < 0) return negative ? -0 : 0;
  const [rounded, carried] = roundDigits(digits, keep);
  const exp10 = exponent + (carried ? 1 : 0);
  if (rounded === "" || /^0*$/.test(rounded)) return negative ? -0 : 0;
  const value = Number(`0.${rounded}e${exp10}`);
  return negative ? -value : value;
}

/** Python's format_number: "200" for 200.0, else f"{value:g}" (6 significant digits). */
export function formatNumber(value) {
  if (Number.isInteger(value)) return BigInt(value).toString();
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  const [negative, digits, exponent] = exactDecimal(value);
  let [rounded, carried] = roundDigits(digits, 6);
  const exp = exponent - 1 + (carried ? 1 : 0); // scientific exponent of the first digit
  if (carried) rounded = rounded.slice(0, 6);
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 6) {
    const mantissa = rounded.replace(/0+$/, "");
    const body = mantissa.length > 1 ? `${mantissa[0]}.${mantissa.slice(1)}` : mantissa;
    const e = Math.abs(exp);
    return `${sign}${body}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
  }
  let text;
  if (exp >= 0) {
    const whole = rounded.slice(0, exp + 1);
    const fraction = rounded.slice(exp + 1).replace(/0+$/, "");
    text = fraction ? `${whole}.${fraction}` : whole;
  } else {
    const fraction = ("0".repeat(-exp - 1) + rounded).replace(/0+$/, "");
    text = fraction ? `0.${fraction}` : "0";
  }
  return sign + text;
}

// ---------------------------------------------------------------------------- text helpers

// Python's str.isspace() characters (JS's trim() differs: it strips U+FEFF and keeps U+001C-1F, U+0085).
const PY_SPACE = new Set(
  "\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

function pyStrip(text) {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (start < end && PY_SPACE.has(chars[start])) start += 1;
  while (end > start && PY_SPACE.has(chars[end - 1])) end -= 1;
  return chars.slice(start, end).join("");
}

// Python's len(): code points, not UTF-16 units.
function pyLen(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

// Python's default string order (code points).
function compareCodePoints(a, b) {
  const left = [...a];
  const right = [...b];
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i += 1) {
    const d = left[i].codePointAt(0) - right[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return left.length - right.length;
}

function textOf(text, lang) {
  return text[lang];
}

// ---------------------------------------------------------------------------- time

// RFC 3339 -> microseconds since the epoch, or "naive" without an offset, or null if unreadable.
const STAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

function parseStamp(text) {
  if (typeof text !== "string") return null;
  const m = STAMP.exec(text);
  if (m === null) return null;
  if (m[8] === undefined) return "naive";
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] ? Number(m[6]) : 0;
  const micros = m[7] ? Number(m[7].padEnd(6, "0").slice(0, 6)) : 0;
  let offset = 0;
  if (m[8] !== "Z" && m[8] !== "z") {
    const sign = m[8][0] === "-" ? -1 : 1;
    const body = m[8].slice(1).replace(":", "");
    offset = sign * (Number(body.slice(0, 2)) * 60 + Number(body.slice(2, 4) || "0"));
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offset * 60000;
  return ms * 1000 + micros;
}

// ---------------------------------------------------------------------------- conditions

class ConditionError extends Error {}

function tokenize(source) {
  const tokens = [];
  let i = 0;
  const n = source.length;
  const isDigit = (c) => c >= "0" && c <= "9";
  const isAlpha = (c) => /\p{L}/u.test(c);
  const isAlnum = (c) => /[\p{L}\p{N}]/u.test(c);
  while (i < n) {
    const c = source[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if (isDigit(c) || (c === "." && i + 1 < n && isDigit(source[i + 1]))) {
      const start = i;
      let dot = false;
      while (i < n && (isDigit(source[i]) || (source[i] === "." && !dot))) {
        dot = dot || source[i] === ".";
        i += 1;
      }
      tokens.push({ kind: "number", value: Number(source.slice(start, i)) });
    } else if (c === "'" || c === '"') {
      const chars = [];
      i += 1;
      let closed = false;
      while (i < n) {
        const d = source[i];
        if (d === "\\" && i + 1 < n && (source[i + 1] === c || source[i + 1] === "\\")) {
          chars.push(source[i + 1]);
          i += 2;
        } else if (d === c) {
          i += 1;
          closed = true;
          break;
        } else {
          chars.push(d);
          i += 1;
        }
      }
      if (!closed) throw new ConditionError("unterminated string");
      tokens.push({ kind: "string", value: chars.join("") });
    } else if (isAlpha(c) || c === "_") {
      const start = i;
      while (i < n && (isAlnum(source[i]) || source[i] === "_")) i += 1;
      tokens.push({ kind: "name", text: source.slice(start, i) });
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c === "(" ? "lparen" : "rparen" });
      i += 1;
    } else if (c === "-") {
      tokens.push({ kind: "minus" });
      i += 1;
    } else {
      const op = ["==", "!=", "<=", ">=", "<", ">"].find((o) => source.startsWith(o, i));
      if (op === undefined) throw new ConditionError(`unexpected character ${c}`);
      tokens.push({ kind: "op", text: op });
      i += op.length;
    }
  }
  tokens.push({ kind: "end" });
  return tokens;
}

// Parses and compiles a condition into values -> true | false | null (unknown).
function compileCondition(source) {
  const tokens = tokenize(source);
  let index = 0;
  const peek = () => tokens[index];
  const advance = () => {
    const token = tokens[index];
    if (token.kind !== "end") index += 1;
    return token;
  };
  const atKeyword = (word) => peek().kind === "name" && peek().text === word;

  function parseOr() {
    return boolOp("or", parseAnd);
  }
  function parseAnd() {
    return boolOp("and", parseNot);
  }
  function boolOp(word, operand) {
    const operands = [operand()];
    while (atKeyword(word)) {
      advance();
      operands.push(operand());
    }
    if (operands.length === 1) return operands[0];
    if (word === "and") {
      return (values) => {
        let unknown = false;
        for (const f of operands) {
          const r = f(values);
          if (r === false) return false;
          if (r === null) unknown = true;
        }
        return unknown ? null : true;
      };
    }
    return (values) => {
      let unknown = false;
      for (const f of operands) {
        const r = f(values);
        if (r === true) return true;
        if (r === null) unknown = true;
      }
      return unknown ? null : false;
    };
  }
  function parseNot() {
    if (atKeyword("not")) {
      advance();
      const inner = parseNot();
      return (values) => {
        const r = inner(values);
        return r === null ? null : !r;
      };
    }
    return parseComparison();
  }
  function parseComparison() {
    const left = parseOperand();
    if (peek().kind !== "op") return left;
    const op = advance().text;
    const right = parseOperand();
    return (values) => {
      const a = left(values);
      const b = right(values);
      if (a === null || b === null) return null;
      if ((typeof a === "boolean") !== (typeof b === "boolean")) return null;
      switch (op) {
        case "==":
          return a === b;
        case "!=":
          return a !== b;
        case "<":
          return a < b;
        case "<=":
          return a <= b;
        case ">":
          return a > b;
        default:
          return a >= b;
      }
    };
  }
  function parseOperand() {
    const token = advance();
    if (token.kind === "number" || token.kind === "string") {
      const value = token.value;
      return () => value;
    }
    if (token.kind === "minus") {
      const value = -advance().value;
      return () => value;
    }
    if (token.kind === "lparen") {
      const inner = parseOr();
      advance();
      return inner;
    }
    if (token.kind === "name") {
      if (token.text === "true" || token.text === "false") {
        const value = token.text === "true";
        return () => value;
      }
      if (peek().kind === "lparen") {
        advance();
        const stepId = advance().text;
        advance();
        return (values) => values.has(stepId);
      }
      const stepId = token.text;
      return (values) => (values.has(stepId) ? values.get(stepId) : null);
    }
    throw new ConditionError("expected a value");
  }
  const compiled = parseOr();
  if (peek().kind !== "end") throw new ConditionError("unexpected token");
  return compiled;
}

// ---------------------------------------------------------------------------- compiling

const DEFAULTS = {
  text: { max_length: 2000 },
  person_name: { max_length: 200 },
  photo: { min_count: 1, max_count: 10 },
  serial: { min_count: 1, max_count: 1 },
  geo_check: { radius_m: 300.0 },
};

const compiledCache = new WeakMap();

function compileStep(step, phaseIndex, outcome) {
  const filled = { ...(DEFAULTS[step.kind] || {}), ...step };
  const evidence = step.evidence || [];
  return {
    step: filled,
    id: step.id,
    kind: step.kind,
    phaseIndex,
    outcome,
    condition: step.visible_when != null ? compileCondition(step.visible_when) : null,
    conditionRefs: step.visible_when != null ? conditionRefs(step.visible_when) : [],
    required: step.required !== false,
    isGeo: step.kind === "geo_check",
    needsTimestamp: evidence.includes("timestamp"),
    needsLocation: evidence.includes("location") && step.kind !== "geo_check",
    needsPhoto: evidence.includes("photo") && step.kind !== "photo",
  };
}

// Step ids a condition names, in source order, each once.
function conditionRefs(source) {
  const tokens = tokenize(source);
  const refs = [];
  const reserved = new Set(["and", "or", "not", "true", "false", "answered"]);
  for (const token of tokens) {
    if (token.kind === "name" && !reserved.has(token.text) && !refs.includes(token.text)) {
      refs.push(token.text);
    }
  }
  return refs;
}

function requirements(gate) {
  return (gate || []).map((r) => ({
    stepId: r.step,
    equals: r.equals === undefined ? null : r.equals,
    message: r.message || null,
  }));
}

function valuesMatch(value, expected) {
  if (expected === null) return true;
  if (value === null || (typeof value === "boolean") !== (typeof expected === "boolean")) {
    return false;
  }
  return value === expected;
}

function met(requirement, values) {
  return (
    values.has(requirement.stepId) && valuesMatch(values.get(requirement.stepId), requirement.equals)
  );
}

function compile(template) {
  if (template !== null && typeof template === "object") {
    const cached = compiledCache.get(template);
    if (cached) return cached;
  }
  const steps = new Map();
  const phases = (template.phases || []).map((phase, index) => {
    const compiledSteps = (phase.steps || []).map((s) => compileStep(s, index, null));
    for (const s of compiledSteps) steps.set(s.id, s);
    return { phase, index, gate: requirements(phase.gate), steps: compiledSteps };
  });
  const outcomes = new Map();
  for (const outcome of template.outcomes || []) {
    const compiledSteps = (outcome.steps || []).map((s) => compileStep(s, null, outcome.id));
    for (const s of compiledSteps) steps.set(s.id, s);
    outcomes.set(outcome.id, {
      definition: {
        final: true,
        message: null,
        incident: null,
        ...outcome,
      },
      autoWhen: outcome.auto_when != null ? compileCondition(outcome.auto_when) : null,
      gate: requirements(outcome.gate),
      steps: compiledSteps,
    });
  }
  const compiled = { template, phases, outcomes, steps };
  if (template !== null && typeof template === "object") compiledCache.set(template, compiled);
  return compiled;
}

/** Every step of a template in order: id -> {step, phase, outcome}. */
export function stepsOf(template) {
  const compiled = compile(template);
  const all = new Map();
  for (const [id, s] of compiled.steps) {
    all.set(id, {
      step: s.step,
      phase: s.phaseIndex === null ? null : compiled.phases[s.phaseIndex].phase.id,
      outcome: s.outcome,
    });
  }
  return all;
}

// ---------------------------------------------------------------------------- answer checks

function rejection(code, key, params = {}) {
  return { code, key, params };
}

function isBool(v) {
  return typeof v === "boolean";
}

function isNumber(v) {
  return typeof v === "number";
}

function validLocation(location) {
  if (typeof location !== "object" || location === null) return false;
  const { lat, lon } = location;
  const accuracy = location.accuracy_m;
  return (
    isNumber(lat) &&
    isNumber(lon) &&
    lat >= -90 &&
    lat <= 90 &&
    lon >= -180 &&
    lon <= 180 &&
    (accuracy == null || (isNumber(accuracy) && Number.isFinite(accuracy) && accuracy >= 0))
  );
}

function checkEvidence(answer) {
  const stamp = answer.answered_at;
  if (stamp != null) {
    const parsed = parseStamp(stamp);
    if (parsed === null || parsed === "naive") return rejection("invalid_timestamp", "naive_timestamp");
  }
  if (answer.location != null && !validLocation(answer.location)) {
    return rejection("invalid_location", "invalid_location");
  }
  const ids = answer.photo_ids || [];
  if (ids.length && (new Set(ids).size !== ids.length || !ids.every((id) => id))) {
    return rejection("invalid_photo_ids", "invalid_photo_ids");
  }
  return null;
}

function wrongType(kind) {
  return [null, rejection("wrong_type", "wrong_type", { expects: kind })];
}

// [value conditions see, rejection | null]
function checkValue(compiledStep, answer) {
  const step = compiledStep.step;
  const value = answer.value === undefined ? null : answer.value;
  switch (step.kind) {
    case "confirm":
      if (value === true) return [true, null];
      if (value === false) return [null, rejection("invalid_value", "confirm_only_true")];
      return wrongType("confirm");
    case "yes_no":
      return isBool(value) ? [value, null] : wrongType("yes_no");
    case "choice": {
      if (typeof value !== "string") return wrongType("choice");
      const options = step.options.map((o) => o.value);
      if (!options.includes(value)) {
        return [null, rejection("invalid_option", "invalid_option", { value, options: options.join(", ") })];
      }
      return [value, null];
    }
    case "text":
    case "person_name":
      if (typeof value !== "string") return wrongType(step.kind);
      if (!pyStrip(value)) return [null, rejection("empty_value", "empty_value")];
      if (pyLen(value) > step.max_length) {
        return [null, rejection("too_long", "too_long", { max: step.max_length })];
      }
      return [value, null];
    case "number": {
      if (!isNumber(value)) return wrongType("number");
      if (!Number.isFinite(value)) return [null, rejection("invalid_value", "not_finite")];
      if (step.min != null && value < step.min) {
        const params = { value: formatNumber(value), min: formatNumber(step.min) };
        return [null, rejection("out_of_range", "below_min", params)];
      }
      if (step.max != null && value > step.max) {
        const params = { value: formatNumber(value), max: formatNumber(step.max) };
        return [null, rejection("out_of_range", "above_max", params)];
      }
      return [value, null];
    }
    case "photo": {
      if (value !== null) return wrongType("photo");
      const count = (answer.photo_ids || []).length;
      if (!(step.min_count <= count && count <= step.max_count)) {
        const params = { min: step.min_count, max: step.max_count, count };
        return [null, rejection("photo_count", "photo_count", params)];
      }
      return [count, null];
    }
    case "signature":
      if (typeof value !== "string") return wrongType("signature");
      if (!pyStrip(value)) return [null, rejection("empty_value", "empty_value")];
      return [true, null];
    case "geo_check":
      if (value !== null) return wrongType("geo_check");
      if (answer.location == null) return [null, rejection("missing_location", "missing_location")];
      return [null, null];
    default: {
      // serial
      const entries = value;
      if (
        !Array.isArray(entries) ||
        !entries.every(
          (e) =>
            e !== null &&
            typeof e === "object" &&
            !Array.isArray(e) &&
            typeof e.value === "string" &&
            (e.method === "scanned" || e.method === "typed"),
        )
      ) {
        return wrongType("serial");
      }
      if (!(step.min_count <= entries.length && entries.length <= step.max_count)) {
        const params = { min: step.min_count, max: step.max_count, count: entries.length };
        return [null, rejection("serial_count", "serial_count", params)];
      }
      const seen = new Set();
      for (const entry of entries) {
        const normalised = pyStrip(entry.value);
        if (!normalised) return [null, rejection("serial_empty", "serial_empty")];
        if (seen.has(normalised)) {
          return [null, rejection("invalid_value", "serial_duplicate", { value: normalised })];
        }
        seen.add(normalised);
      }
      return [true, null];
    }
  }
}

function check(compiledStep, answer) {
  const problem = checkEvidence(answer);
  if (problem !== null) return [null, problem];
  return checkValue(compiledStep, answer);
}

// ---------------------------------------------------------------------------- geometry

const EARTH_RADIUS_M = 6371008.8;

function radians(degrees) {
  return (degrees * Math.PI) / 180;
}

function haversineM(lat1, lon1, lat2, lon2) {
  const phi1 = radians(lat1);
  const phi2 = radians(lat2);
  const halfDphi = (phi2 - phi1) / 2;
  const halfDlambda = radians(lon2 - lon1) / 2;
  const a = Math.sin(halfDphi) ** 2 + Math.cos(phi1) * Math.cos(phi2) * Math.sin(halfDlambda) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1.0, Math.sqrt(a)));
}

// ---------------------------------------------------------------------------- the walk

function normaliseAnswer(answer) {
  if (answer === null || typeof answer !== "object") return { step_id: undefined, value: null };
  return answer;
}

function walkAnswers(compiled, answers, site, declared) {
  const walk = {
    values: new Map(),
    counted: new Map(),
    shown: [],
    shownOutcomeSteps: [],
    locked: [],
    lockingPhase: null,
    rejected: [],
    flags: [],
  };
  const values = walk.values;
  const has = (id) => Object.prototype.hasOwnProperty.call(answers, id);
  let locked = false;
  for (const phase of compiled.phases) {
    if (!locked) {
      for (const requirement of phase.gate) {
        if (!met(requirement, values)) {
          locked = true;
          walk.lockingPhase = phase.index;
          break;
        }
      }
    }
    walk.locked.push(locked);
    const shown = [];
    walk.shown.push(shown);
    for (const step of phase.steps) {
      const visible = step.condition === null || step.condition(values) === true;
      if (visible) shown.push(step);
      if (!has(step.id)) continue;
      if (!visible) walk.rejected.push([step.id, rejection("step_hidden", "step_hidden")]);
      else if (locked) walk.rejected.push([step.id, rejection("phase_locked", "phase_locked")]);
      else accept(walk, step, normaliseAnswer(answers[step.id]), site);
    }
  }
  if (declared !== null) {
    for (const step of declared.steps) {
      if (step.condition !== null && step.condition(values) !== true) {
        if (has(step.id)) walk.rejected.push([step.id, rejection("step_hidden", "step_hidden")]);
        continue;
      }
      walk.shownOutcomeSteps.push(step);
      if (has(step.id)) accept(walk, step, normaliseAnswer(answers[step.id]), site);
    }
  }
  const declaredId = declared !== null ? declared.definition.id : null;
  const leftovers = [];
  for (const key of Object.keys(answers)) {
    const step = compiled.steps.get(key);
    if (step === undefined) leftovers.push([key, rejection("unknown_step", "unknown_step")]);
    else if (step.outcome !== null && step.outcome !== declaredId) {
      leftovers.push([key, rejection("outcome_not_declared", "outcome_not_declared")]);
    }
  }
  leftovers.sort((a, b) => compareCodePoints(a[0], b[0]));
  walk.rejected.push(...leftovers);
  return walk;
}

function accept(walk, step, answer, site) {
  if (answer.step_id !== step.id) {
    const params = { key: step.id, step: answer.step_id };
    walk.rejected.push([step.id, rejection("step_id_mismatch", "step_id_mismatch", params)]);
    return;
  }
  let [value, problem] = check(step, answer);
  if (problem !== null) {
    walk.rejected.push([step.id, problem]);
    return;
  }
  if (step.isGeo) value = checkPosition(walk, step, answer, site);
  walk.values.set(step.id, value);
  walk.counted.set(step.id, answer);
}

function checkPosition(walk, step, answer, site) {
  const radius = step.step.radius_m;
  if (site == null) {
    walk.flags.push([step.id, "site_unknown", null, radius]);
    return null;
  }
  const location = answer.location;
  const distance = pyRound(haversineM(site.lat, site.lon, location.lat, location.lon), 1);
  const within = distance <= radius;
  if (!within) walk.flags.push([step.id, "outside_radius", distance, radius]);
  if (location.accuracy_m != null && location.accuracy_m > radius) {
    walk.flags.push([step.id, "low_accuracy", location.accuracy_m, radius]);
  }
  return within;
}

// ---------------------------------------------------------------------------- texts

function title(compiled, stepId, lang) {
  return textOf(compiled.steps.get(stepId).step.title, lang);
}

function valueLabel(compiled, stepId, value, lang) {
  if (isBool(value)) return render(value ? "yes" : "no", lang);
  const step = compiled.steps.get(stepId).step;
  if (step.kind === "choice") {
    for (const option of step.options) {
      if (option.value === value) return textOf(option.label, lang);
    }
  }
  if (isNumber(value)) {
    const unit = step.kind === "number" ? ` ${textOf(step.unit, lang)}` : "";
    return formatNumber(value) + unit;
  }
  return String(value);
}

function requirementDetail(compiled, requirement, values, lang) {
  const stepTitle = title(compiled, requirement.stepId, lang);
  if (!values.has(requirement.stepId)) return render("gate_unanswered", lang, { title: stepTitle });
  if (requirement.message !== null) return textOf(requirement.message, lang);
  const expected = valueLabel(compiled, requirement.stepId, requirement.equals, lang);
  return render("gate_value", lang, { title: stepTitle, expected });
}

function rejectionMessage(compiled, walk, stepId, problem, lang) {
  const step = compiled.steps.get(stepId);
  if (step === undefined) return render(problem.key, lang, { step: stepId });
  const params = { title: title(compiled, stepId, lang), step: stepId, ...problem.params };
  if (problem.code === "wrong_type") params.expected = render(`expects_${params.expects}`, lang);
  if (step.kind === "number") params.unit = textOf(step.step.unit, lang);
  if (problem.code === "outcome_not_declared" && step.outcome !== null) {
    params.outcome = textOf(compiled.outcomes.get(step.outcome).definition.title, lang);
  }
  if (problem.code === "phase_locked" && walk.lockingPhase !== null) {
    const phase = compiled.phases[walk.lockingPhase];
    const unmet = phase.gate.find((r) => !met(r, walk.values));
    params.phase = textOf(phase.phase.title, lang);
    params.detail = requirementDetail(compiled, unmet, walk.values, lang);
  }
  return render(problem.key, lang, params);
}

// A struct with omit_defaults: keys whose value is null are left out.
function reason(code, message, extra) {
  const out = { code, message };
  for (const key of ["step_id", "phase", "outcome"]) {
    if (extra[key] != null) out[key] = extra[key];
  }
  return out;
}

// ---------------------------------------------------------------------------- the state

function declaredOutcome(compiled, outcome) {
  if (outcome == null) return null;
  const declared = compiled.outcomes.get(outcome);
  if (declared === undefined) {
    const error = new Error(`template ${JSON.stringify(compiled.template.key)} has no outcome ${JSON.stringify(outcome)}`);
    error.name = "UnknownOutcome";
    throw error;
  }
  return declared;
}

/** The state of a visit given its answers keyed by step id (see the interface above). */
export function evaluate(template, answers, { lang = "ru", site = null, outcome = null, contentHash = null } = {}) {
  const compiled = compile(template);
  const declared = declaredOutcome(compiled, outcome);
  const walk = walkAnswers(compiled, answers || {}, site, declared);
  return buildState(compiled, walk, lang, declared, contentHash);
}

function buildState(compiled, walk, lang, declared, contentHash) {
  const counted = walk.counted;
  const visible = new Set();
  const visibleList = [];
  for (const steps of [...walk.shown, walk.shownOutcomeSteps]) {
    for (const step of steps) {
      visible.add(step.id);
      visibleList.push(step.id);
    }
  }
  const phases = [];
  const missing = [];
  let current = null;
  compiled.phases.forEach((phase, index) => {
    const required = walk.shown[index].filter((s) => s.required).map((s) => s.id);
    const undone = required.filter((id) => !counted.has(id));
    missing.push(...undone);
    const locked = walk.locked[index];
    const status = locked ? "locked" : undone.length ? "open" : "done";
    if (status !== "done" && current === null) current = index;
    phases.push({
      id: phase.phase.id,
      title: textOf(phase.phase.title, lang),
      status,
      required_total: required.length,
      required_done: required.length - undone.length,
    });
  });
  const outcomeMissing = walk.shownOutcomeSteps
    .filter((s) => s.required && !counted.has(s.id))
    .map((s) => s.id);

  const gateMet = (o) => o.gate.every((r) => met(r, walk.values));
  let automatic = null;
  for (const candidate of compiled.outcomes.values()) {
    if (candidate.autoWhen !== null && candidate.autoWhen(walk.values) === true) {
      automatic = candidate;
      break;
    }
  }
  const completionOk =
    walk.lockingPhase === null &&
    missing.length === 0 &&
    automatic === null &&
    gateMet(compiled.outcomes.get("completed"));
  const requested = declared !== null ? declared.definition.id : null;
  const requestedOk =
    declared === null || requested === "completed"
      ? completionOk
      : outcomeMissing.length === 0 && gateMet(declared);
  const inEffect = declared !== null && requestedOk ? declared : automatic;

  // Unmet requirements, leaving out steps hidden for now when others can be acted on.
  const actionable = (gate) => {
    const unmet = gate.filter((r) => !met(r, walk.values));
    const shown = unmet.filter((r) => visible.has(r.stepId));
    return shown.length ? shown : unmet;
  };
  const gateReasons = (o, skip) => {
    const outcomeTitle = textOf(o.definition.title, lang);
    return actionable(o.gate)
      .filter((r) => !skip.has(r.stepId))
      .map((r) =>
        reason(
          "outcome_gate",
          render("outcome_gate", lang, {
            outcome: outcomeTitle,
            detail: requirementDetail(compiled, r, walk.values, lang),
          }),
          { step_id: r.stepId, outcome: o.definition.id },
        ),
      );
  };

  let nextSteps;
  let blocking;
  if (requested === null || requested === "completed") {
    nextSteps =
      current === null || walk.locked[current]
        ? []
        : walk.shown[current].filter((s) => s.required && !counted.has(s.id)).map((s) => s.id);
    blocking = [];
    if (!requestedOk) {
      for (const stepId of missing) {
        const step = compiled.steps.get(stepId);
        if (walk.locked[step.phaseIndex]) continue;
        blocking.push(
          reason("required_step", render("required_step", lang, { title: title(compiled, stepId, lang) }), {
            step_id: stepId,
            phase: compiled.phases[step.phaseIndex].phase.id,
          }),
        );
      }
      if (walk.lockingPhase !== null) {
        const phase = compiled.phases[walk.lockingPhase];
        const phaseTitle = textOf(phase.phase.title, lang);
        for (const r of actionable(phase.gate)) {
          const detail = requirementDetail(compiled, r, walk.values, lang);
          blocking.push(
            reason("phase_gate", render("phase_gate", lang, { phase: phaseTitle, detail }), {
              step_id: r.stepId,
              phase: phase.phase.id,
            }),
          );
        }
      }
      if (automatic !== null) {
        const definition = automatic.definition;
        const detail = textOf(definition.message || definition.title, lang);
        blocking.push(
          reason(
            "automatic_outcome",
            render("automatic_outcome", lang, { outcome: textOf(definition.title, lang), detail }),
            { outcome: definition.id },
          ),
        );
      }
      blocking.push(...gateReasons(compiled.outcomes.get("completed"), new Set(missing)));
    }
  } else {
    nextSteps = outcomeMissing.slice();
    blocking = [];
    if (!requestedOk) {
      blocking.push(...gateReasons(declared, new Set()));
      for (const stepId of outcomeMissing) {
        blocking.push(
          reason("required_step", render("required_step", lang, { title: title(compiled, stepId, lang) }), {
            step_id: stepId,
            outcome: declared.definition.id,
          }),
        );
      }
    }
  }

  const allowed = [];
  for (const [id, o] of compiled.outcomes) {
    if (id === "completed" ? completionOk : gateMet(o)) allowed.push(id);
  }

  return {
    template_key: compiled.template.key,
    template_version: compiled.template.version,
    content_hash: contentHash,
    current_phase: current !== null ? compiled.phases[current].phase.id : null,
    phases,
    visible_steps: visibleList,
    answered_steps: [...counted.keys()],
    next_required_steps: nextSteps,
    missing_required_steps: [...missing, ...outcomeMissing],
    completion_allowed: completionOk && (requested === null || requested === "completed"),
    allowed_outcomes: allowed,
    requested_outcome: requested,
    outcome: inEffect !== null ? inEffect.definition.id : null,
    final: inEffect !== null ? inEffect.definition.final !== false : false,
    incident: inEffect !== null ? incidentOf(inEffect.definition) : null,
    blocking_reasons: blocking,
    compliance: compliance(compiled, walk),
    rejected_answers: walk.rejected.map(([stepId, problem]) => ({
      step_id: stepId,
      code: problem.code,
      message: rejectionMessage(compiled, walk, stepId, problem, lang),
    })),
    flags: walk.flags.map((raw) => flag(lang, ...raw)),
  };
}

// The outcome's incident in the server's field order (the template JSON has its keys sorted).
function incidentOf(definition) {
  const incident = definition.incident;
  if (incident == null) return null;
  const out = { kind: incident.kind, notify: incident.notify };
  if (incident.fallback_notify && incident.fallback_notify.length) {
    out.fallback_notify = incident.fallback_notify;
  }
  return out;
}

function flag(lang, stepId, code, measured, radius) {
  const radiusText = radius !== null ? formatNumber(radius) : "";
  if (code === "outside_radius") {
    const message = render(code, lang, { distance: formatNumber(pyRound(measured)), radius: radiusText });
    return { step_id: stepId, code, message, distance_m: measured, radius_m: radius };
  }
  if (code === "low_accuracy") {
    const message = render(code, lang, { accuracy: formatNumber(measured), radius: radiusText });
    return { step_id: stepId, code, message, radius_m: radius };
  }
  return { step_id: stepId, code, message: render(code, lang), radius_m: radius };
}

// ---------------------------------------------------------------------------- compliance

function answeredAt(counted, stepId) {
  const answer = counted.get(stepId);
  if (answer === undefined || answer.answered_at == null) return null;
  return parseStamp(answer.answered_at);
}

function later(a, b) {
  if (a === null) return b;
  if (b === null) return a;
  return a >= b ? a : b;
}

function compliance(compiled, walk) {
  const counted = walk.counted;
  let floor = null;
  let required = 0;
  let compliant = 0;
  const outOfOrder = [];
  const gaps = [];
  compiled.phases.forEach((phase, index) => {
    for (const r of phase.gate) floor = later(floor, answeredAt(counted, r.stepId));
    let phaseLatest = floor;
    for (const step of walk.shown[index]) {
      if (!step.required) continue;
      required += 1;
      const answer = counted.get(step.id);
      if (answer === undefined) continue;
      const stamp = answer.answered_at == null ? null : parseStamp(answer.answered_at);
      let inOrder = true;
      if (stamp !== null) {
        if (floor !== null && stamp < floor) inOrder = false;
        for (const ref of step.conditionRefs) {
          const earlier = answeredAt(counted, ref);
          if (earlier !== null && stamp < earlier) inOrder = false;
        }
      }
      phaseLatest = later(phaseLatest, stamp);
      const missing = [];
      if (step.needsTimestamp && answer.answered_at == null) missing.push("timestamp");
      if (step.needsLocation && answer.location == null) missing.push("location");
      if (step.needsPhoto && !(answer.photo_ids || []).length) missing.push("photo");
      if (!inOrder) outOfOrder.push(step.id);
      if (missing.length) gaps.push({ step_id: step.id, missing });
      if (inOrder && !missing.length) compliant += 1;
    }
    floor = phaseLatest;
  });
  const score = required ? pyRound(compliant / required, 4) : 1.0;
  return { score, required, compliant, out_of_order: outOfOrder, missing_evidence: gaps };
}

// ---------------------------------------------------------------------------- validate_answer

/** The per-kind check of one answer against its step, or null when it passes. */
export function checkStepAnswer(step, answer, { lang = "ru" } = {}) {
  const compiledStep = compileStep(step, null, null);
  const problem = check(compiledStep, normaliseAnswer(answer))[1];
  if (problem === null) return null;
  const params = { title: textOf(step.title, lang), step: step.id, ...problem.params };
  if (problem.code === "wrong_type") params.expected = render(`expects_${params.expects}`, lang);
  if (step.kind === "number") params.unit = textOf(step.unit, lang);
  return { code: problem.code, step_id: step.id, message: render(problem.key, lang, params) };
}

/** What the server's validate_answer raises for `answer` on top of `answersSoFar`, or null. */
export function validateAnswer(template, answersSoFar, answer, { lang = "ru", site = null, outcome = null } = {}) {
  const compiled = compile(template);
  const declared = declaredOutcome(compiled, outcome);
  const given = normaliseAnswer(answer);
  const step = compiled.steps.get(given.step_id);
  if (step === undefined) {
    return {
      code: "unknown_step",
      step_id: given.step_id,
      message: render("unknown_step", lang, { step: given.step_id }),
    };
  }
  const others = {};
  for (const [key, value] of Object.entries(answersSoFar || {})) {
    if (key !== given.step_id) others[key] = value;
  }
  const walk = walkAnswers(compiled, others, site, declared);
  let problem;
  if (step.outcome !== null && (declared === null || declared.definition.id !== step.outcome)) {
    problem = rejection("outcome_not_declared", "outcome_not_declared");
  } else if (step.phaseIndex !== null && walk.locked[step.phaseIndex]) {
    problem = rejection("phase_locked", "phase_locked");
  } else if (step.condition !== null && step.condition(walk.values) !== true) {
    problem = rejection("step_hidden", "step_hidden");
  } else {
    problem = check(step, given)[1];
  }
  if (problem === null) return null;
  return { code: problem.code, step_id: step.id, message: rejectionMessage(compiled, walk, step.id, problem, lang) };
}
