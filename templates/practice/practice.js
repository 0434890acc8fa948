/* quizgen practice page: reads the student's maths with mathjs, checks it, gives feedback.
   QG.read (input -> parsed expression or a message with a position), QG.equivalent (THE
   equivalence rule for expressions), QG.withinTolerance (numbers) are the checking core and
   are unit-tested in the browser by tests/test_practice.py. Everything else is the page. */
"use strict";
(function (global) {
  const math = global.math;
  const QG = {};

  // ------------------------------------------------------------------ reading maths

  const FUNCTIONS = ["sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan", "sinh", "cosh",
                     "tanh", "exp", "log", "sqrt", "abs"];
  const CONSTANTS = ["pi", "e"];
  const OPERATORS = { add: 1, subtract: 1, multiply: 1, divide: 1, pow: 1, unaryMinus: 1, unaryPlus: 1 };
  const UNICODE = { "\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2217": "*",
                    "\u00f7": "/", "\u03c0": "pi", "\u00b2": "^2", "\u00b3": "^3", "\u221a": "sqrt" };
  const FN_WORD = new RegExp("\\b(" + FUNCTIONS.concat(["ln"]).join("|") + ")\\b", "g");

  /** Replace [start, end) spans of s by text, keeping map[i] = index in the student's input. */
  function edit(s, map, edits) {
    let out = "", outMap = [], pos = 0;
    edits.sort((a, b) => a.start - b.start);
    for (const e of edits) {
      if (e.start < pos) continue;
      out += s.slice(pos, e.start); outMap = outMap.concat(map.slice(pos, e.start));
      for (let i = 0; i < e.text.length; i++) outMap.push(map[Math.min(e.start + i, Math.max(e.end - 1, e.start))] ?? map[map.length - 1] ?? 0);
      out += e.text; pos = e.end;
    }
    out += s.slice(pos); outMap = outMap.concat(map.slice(pos));
    outMap.push((map[map.length - 1] ?? -1) + 1);
    return [out, outMap];
  }

  function regexEdits(s, re, fn) {
    const edits = [];
    for (const m of s.matchAll(re)) edits.push({ start: m.index, end: m.index + m[0].length, text: fn(m) });
    return edits;
  }

  /** The end of a balanced group starting with "(" at i, or -1. */
  function closing(s, i) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      if (s[j] === "(") depth++;
      else if (s[j] === ")" && --depth === 0) return j;
    }
    return -1;
  }

  /** sin^2 x -> sin(x)^2, sin^2(u) -> sin(u)^2, sin x -> sin(x), sin 2x -> sin(2x). */
  function functionEdits(s) {
    const edits = [];
    for (const m of s.matchAll(/\b([a-z]+)\b/g)) {
      const name = m[1];
      if (FUNCTIONS.indexOf(name) < 0) continue;
      let i = m.index + name.length, power = "";
      const pm = /^\s*\^\s*(\d+|\(\s*-?\d+\s*\))/.exec(s.slice(i));
      if (pm) { power = "^" + pm[1].replace(/\s+/g, ""); i += pm[0].length; }
      const ws = /^\s*/.exec(s.slice(i))[0].length;
      let arg, end;
      if (s[i + ws] === "(") {
        if (!power) continue;                       // sin(x): nothing to do
        end = closing(s, i + ws);
        if (end < 0) continue;
        arg = s.slice(i + ws + 1, end); end += 1;
      } else {
        const am = /^[0-9.]*[a-zA-Z][a-zA-Z0-9]*|^[0-9.]+/.exec(s.slice(i + ws));
        if (!am || FUNCTIONS.indexOf(am[0]) >= 0) continue;
        arg = am[0]; end = i + ws + am[0].length;
      }
      edits.push({ start: m.index, end: end, text: name + "(" + arg + ")" + power });
    }
    return edits;
  }

  /** The student's text in mathjs syntax, with a map back to input positions. */
  QG.normalise = function (input) {
    let s = input, map = Array.from(s, (_, i) => i);
    [s, map] = edit(s, map, regexEdits(s, /[\u2212\u2013\u00d7\u00b7\u22c5\u2217\u00f7\u03c0\u00b2\u00b3\u221a]/g, m => UNICODE[m[0]]));
    [s, map] = edit(s, map, regexEdits(s, /\*\*/g, () => "^"));
    [s, map] = edit(s, map, regexEdits(s, /\bln\b/g, () => "log"));
    [s, map] = edit(s, map, functionEdits(s));
    return { text: s, map: map };
  };

  function readError(message, input, position) {
    return { ok: false, message: message, position: position, input: input };
  }

  /** "xy" -> ["x", "y"] when it is a run of allowed names (longest first), else null. */
  function split(name, names) {
    if (name === "") return [];
    const sorted = names.slice().sort((a, b) => b.length - a.length);
    for (const n of sorted) {
      if (name.startsWith(n)) {
        const rest = split(name.slice(n.length), names);
        if (rest) return [n].concat(rest);
      }
    }
    return null;
  }

  function product(nodes) {
    return nodes.reduce((a, b) => new math.OperatorNode("*", "multiply", [a, b], true));
  }

  function findName(input, name) {
    const i = input.indexOf(name);
    return i < 0 ? 0 : i;
  }

  function namesList(variables) {
    return variables.length ? variables.join(", ") : "no letters (a number)";
  }

  /** Implicit products mathjs reads otherwise (x(1+x) is a call, xy one name) + an allowlist. */
  function rewrite(node, variables, input) {
    const names = variables.concat(CONSTANTS);
    return node.transform(function (n) {
      if (n.isSymbolNode && !n._checked) {
        if (names.indexOf(n.name) >= 0) return n;
        const parts = split(n.name, names);
        if (parts) return product(parts.map(p => Object.assign(new math.SymbolNode(p), { _checked: true })));
        if (FUNCTIONS.indexOf(n.name) >= 0)
          throw readError("\u201c" + n.name + "\u201d is a function: put its argument in brackets, e.g. " + n.name + "(x).",
                          input, findName(input, n.name));
        throw readError("The name \u201c" + n.name + "\u201d is not known here. This answer can use " +
                        namesList(variables) + ", pi, e and sin, cos, tan, exp, ln, sqrt.", input, findName(input, n.name));
      }
      if (n.isFunctionNode) {
        if (!n.fn.isSymbolNode) throw readError("Write a \u201c*\u201d between the brackets for a product.", input, 0);
        const name = n.fn.name;
        if (FUNCTIONS.indexOf(name) >= 0) {
          const args = n.args.map(a => rewrite(a, variables, input));
          return new math.FunctionNode(Object.assign(new math.SymbolNode(name), { _checked: true }), args);
        }
        let head = null, fn = null;
        const whole = split(name, names);
        if (whole) head = whole;
        else {
          for (const f of FUNCTIONS) {
            if (name.endsWith(f) && split(name.slice(0, -f.length), names)) { head = split(name.slice(0, -f.length), names); fn = f; break; }
          }
        }
        if (!head || n.args.length !== 1)
          throw readError("\u201c" + name + "(\u2026)\u201d is not a function that is known here. Write a \u201c*\u201d for a product, e.g. x*(1+x).",
                          input, findName(input, name));
        const arg = rewrite(n.args[0], variables, input);
        const last = fn ? new math.FunctionNode(Object.assign(new math.SymbolNode(fn), { _checked: true }), [arg])
                        : new math.ParenthesisNode(arg);
        return product(head.map(p => Object.assign(new math.SymbolNode(p), { _checked: true })).concat([last]));
      }
      return n;
    });
  }

  function allowlist(node, input) {
    node.traverse(function (n) {
      if (n.isConstantNode && typeof n.value !== "number")
        throw readError("Only numbers, letters and + \u2212 * / ^ ( ) can be used here.", input, 0);
      if (n.isOperatorNode && !OPERATORS[n.fn])
        throw readError("The operator \u201c" + n.op + "\u201d cannot be used here: use + \u2212 * / ^.", input, findName(input, n.op));
      if (!(n.isConstantNode || n.isSymbolNode || n.isOperatorNode || n.isParenthesisNode || n.isFunctionNode))
        throw readError("This cannot be read as one expression (no =, commas, brackets [ ] or units).", input, 0);
    });
  }

  function bracketError(input) {
    const open = [];
    for (let i = 0; i < input.length; i++) {
      if (input[i] === "(") open.push(i);
      else if (input[i] === ")") {
        if (!open.length) return readError("This \u201c)\u201d has no matching \u201c(\u201d.", input, i);
        open.pop();
      }
    }
    if (open.length) return readError("This \u201c(\u201d is never closed: a \u201c)\u201d is missing.", input, open[open.length - 1]);
    return null;
  }

  function syntaxMessage(err, input, map) {
    const m = /\(char (\d+)\)/.exec(err.message);
    const at = m ? Number(m[1]) - 1 : (err.char ? err.char - 1 : 0);
    const pos = map[Math.max(0, Math.min(at, map.length - 1))] ?? 0;
    let msg;
    if (/Unexpected end of expression/.test(err.message))
      return readError("The answer stops too early: something is missing at the end.", input, input.length);
    if (/Value expected/.test(err.message)) msg = "A number or a letter is missing here.";
    else if (/Unexpected operator/.test(err.message)) msg = "This operator is not expected here.";
    else if (/Syntax error in part/.test(err.message)) msg = "This character cannot be read as maths.";
    else if (/Parenthesis \) expected/.test(err.message)) msg = "A \u201c)\u201d is missing here.";
    else msg = "This cannot be read as maths here.";
    return readError(msg, input, pos);
  }

  /**
   * Read a student's input: {ok: true, node, text} or {ok: false, message, position, input}.
   * variables: the letters this answer may use ([] for a number).
   */
  QG.read = function (input, variables) {
    variables = variables || [];
    input = String(input == null ? "" : input);
    if (!input.trim()) return readError("Type an answer first.", input, 0);
    if (/\d,\d/.test(input)) return readError("Use a point for decimals (1.5, not 1,5).", input, input.search(/\d,\d/) + 1);
    const brackets = bracketError(input);
    if (brackets) return brackets;
    const norm = QG.normalise(input);
    let node;
    try { node = math.parse(norm.text); }
    catch (err) { return syntaxMessage(err, input, norm.map); }
    try {
      allowlist(node, input);
      node = rewrite(node, variables, input);
    } catch (err) {
      if (err && err.ok === false) return err;
      throw err;
    }
    return { ok: true, node: node, text: QG.reading(node), code: node.compile() };
  };

  const PREC = { add: 1, subtract: 1, multiply: 2, divide: 2, unaryMinus: 3, unaryPlus: 3, pow: 4 };
  const SIGN = { add: " + ", subtract: " \u2212 ", multiply: "\u00b7", divide: "/", pow: "^" };
  const prec = n => (n.isOperatorNode ? PREC[n.fn] : 5);

  function txt(n) {
    if (n.isConstantNode) return String(n.value);
    if (n.isSymbolNode) return n.name;
    if (n.isParenthesisNode) return "(" + txt(n.content) + ")";
    if (n.isFunctionNode) return (n.fn.name === "log" ? "ln" : n.fn.name) + "(" + n.args.map(txt).join(", ") + ")";
    if (!n.isOperatorNode) return "?";
    const p = PREC[n.fn];
    if (n.args.length === 1) {
      const a = n.args[0];
      return (n.fn === "unaryMinus" ? "\u2212" : "+") + (prec(a) <= p && !a.isParenthesisNode ? "(" + txt(a) + ")" : txt(a));
    }
    const [l, r] = n.args;
    // a quotient beside a product, or a product over something, is bracketed so 1/2x reads (1/2)·x
    const wrapL = prec(l) < p || (n.fn === "pow" && prec(l) <= p) || (p === 2 && prec(l) === 2 && l.fn !== n.fn);
    const assoc = (n.fn === "add" || n.fn === "multiply") && r.fn === n.fn;
    const wrapR = !assoc && (prec(r) < p || (prec(r) === p && n.fn !== "add"));
    return (wrapL ? "(" + txt(l) + ")" : txt(l)) + SIGN[n.fn] + (wrapR ? "(" + txt(r) + ")" : txt(r));
  }

  /** The reading in plain text, every product shown and ambiguous quotients bracketed: "2·x·(1 + x)". */
  QG.reading = function (node) { return txt(node); };

  // ------------------------------------------------------------------ preview as MathML

  const esc = s => String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const mo = s => "<mo>" + esc(s) + "</mo>";

  function mml(n) {
    if (n.isConstantNode) return "<mn>" + esc(n.value) + "</mn>";
    if (n.isSymbolNode) return "<mi>" + (n.name === "pi" ? "\u03c0" : esc(n.name)) + "</mi>";
    if (n.isParenthesisNode) return "<mrow>" + mo("(") + mml(n.content) + mo(")") + "</mrow>";
    if (n.isFunctionNode) {
      const name = n.fn.name, args = n.args.map(mml);
      if (name === "sqrt") return "<msqrt>" + args[0] + "</msqrt>";
      if (name === "abs") return "<mrow>" + mo("|") + args[0] + mo("|") + "</mrow>";
      if (name === "exp") return "<msup><mi>e</mi><mrow>" + args[0] + "</mrow></msup>";
      return "<mrow><mi>" + (name === "log" ? "ln" : esc(name)) + "</mi><mo>\u2061</mo>" + mo("(") + args.join(mo(",")) + mo(")") + "</mrow>";
    }
    if (n.isOperatorNode) {
      const a = n.args.map(mml);
      switch (n.fn) {
        case "unaryMinus": return "<mrow>" + mo("\u2212") + a[0] + "</mrow>";
        case "unaryPlus": return "<mrow>" + mo("+") + a[0] + "</mrow>";
        case "divide": return "<mfrac><mrow>" + unparen(n.args[0]) + "</mrow><mrow>" + unparen(n.args[1]) + "</mrow></mfrac>";
        case "pow": return "<msup><mrow>" + a[0] + "</mrow><mrow>" + unparen(n.args[1]) + "</mrow></msup>";
        case "multiply": return "<mrow>" + a[0] + mo("\u00b7") + a[1] + "</mrow>";
        case "subtract": return "<mrow>" + a[0] + mo("\u2212") + a[1] + "</mrow>";
        default: return "<mrow>" + a[0] + mo(n.op) + a[1] + "</mrow>";
      }
    }
    return "<mtext>?</mtext>";
  }
  const unparen = n => mml(n.isParenthesisNode ? n.content : n);

  /** The parsed input as a MathML element (browsers typeset MathML natively, offline). */
  QG.toMathML = function (node) { return '<math display="inline">' + mml(node) + "</math>"; };

  // ------------------------------------------------------------------ checking

  /** A small seeded PRNG (mulberry32): the same seed gives the same points. */
  QG.prng = function (seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };

  /** |x - value| <= max(abs, rel * |value|), the contract's tolerance rule. */
  QG.withinTolerance = function (x, value, tol) {
    tol = tol || {};
    const bound = Math.max(tol.abs || 0, (tol.rel || 0) * Math.abs(value));
    return Number.isFinite(x) && Math.abs(x - value) <= bound;
  };

  function realValue(code, scope) {
    let v;
    try { v = code.evaluate(Object.assign({}, scope)); } catch (e) { return NaN; }
    if (typeof v === "number") return v;
    if (v && v.isComplex) return Math.abs(v.im) < 1e-12 ? v.re : NaN;
    return NaN;
  }

  function compiled(x, variables) {
    if (x && x.code) return x;
    const r = QG.read(x, variables);
    if (!r.ok) throw new Error("unreadable expression: " + x + " (" + r.message + ")");
    return r;
  }

  /**
   * THE equivalence rule for expression answers, used for the key and every misconception.
   *
   * equivalent(a, b, {variables, seed, points, minPoints, tolerance, domain, maxTries})
   *   a, b       strings (student syntax; normalised and read by QG.read) or QG.read results
   *   variables  the free letters, e.g. ["x", "y"]
   * Points: each variable uniform in `domain` (default [-3, 3]) from QG.prng(seed), the domain
   * doubled after every 25 draws that gave too few usable points (sqrt(x - 10) is checked); a point is
   * kept only where BOTH sides are finite real numbers of magnitude below 1e6, which skips
   * poles, logs and roots of negatives and other singular points; up to `maxTries` (200)
   * draws for `points` (8) kept points. Fewer than `minPoints` (4) kept -> "cannot-check",
   * never a guess. Equal when at every kept point |a - b| <= max(abs, rel * max(|a|, |b|))
   * with tolerance {rel: 1e-6, abs: 1e-9} by default: decimals must be exact (1/3, not 0.333).
   * Returns {verdict: "equal" | "different" | "cannot-check", points: [...]}.
   */
  QG.equivalent = function (a, b, options) {
    const o = Object.assign({ variables: [], seed: 1, points: 8, minPoints: 4, maxTries: 200,
                              domain: [-3, 3], tolerance: { rel: 1e-6, abs: 1e-9 } }, options || {});
    const ca = compiled(a, o.variables), cb = compiled(b, o.variables);
    const rand = QG.prng(o.seed), kept = [];
    const tries = o.variables.length ? o.maxTries : 1;
    for (let t = 0; t < tries && kept.length < o.points; t++) {
      const scope = {}, widen = Math.pow(2, Math.floor(t / 25));   // 1, 2, 4 ... when points keep failing
      for (const v of o.variables) scope[v] = widen * (o.domain[0] + (o.domain[1] - o.domain[0]) * rand());
      const va = realValue(ca.code, scope), vb = realValue(cb.code, scope);
      if (!Number.isFinite(va) || !Number.isFinite(vb) || Math.abs(va) > 1e6 || Math.abs(vb) > 1e6) continue;
      kept.push({ at: scope, a: va, b: vb });
      const bound = Math.max(o.tolerance.abs || 0, (o.tolerance.rel || 0) * Math.max(Math.abs(va), Math.abs(vb)));
      if (Math.abs(va - vb) > bound) return { verdict: "different", points: kept };
    }
    const enough = o.variables.length ? o.minPoints : 1;
    return { verdict: kept.length >= enough ? "equal" : "cannot-check", points: kept };
  };

  /** A number typed in a field (may be 1/3, -2.5, sqrt(2), e^2): {ok, value} or a read error. */
  QG.readNumber = function (input) {
    const r = QG.read(input, []);
    if (!r.ok) return r;
    const v = realValue(r.code, {});
    if (!Number.isFinite(v)) return readError("This is not a finite number.", input, 0);
    return { ok: true, value: v, node: r.node, text: r.text };
  };

  global.QG = QG;
})(typeof window !== "undefined" ? window : globalThis);

// ==================================================================== the page
(function () {
  const QG = window.QG;
  const $ = (tag, attrs, html) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = v; else el.setAttribute(k, v === true ? "" : v);
    }
    if (html !== undefined) el.innerHTML = html;
    return el;
  };

  async function unpack(b64) {
    const bytes = Uint8Array.from(atob(b64.trim()), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  // ---------------------------------------------------------------- progress (localStorage)
  const Progress = {
    key: "quizgen-practice:" + document.title,
    load() {
      try { return JSON.parse(localStorage.getItem(this.key)) || { attempts: {}, solved: {} }; }
      catch (e) { return { attempts: {}, solved: {} }; }
    },
    save(p) { try { localStorage.setItem(this.key, JSON.stringify(p)); } catch (e) { /* storage off */ } },
    reset() { try { localStorage.removeItem(this.key); } catch (e) { /* storage off */ } },
  };

  function seedOf(variant, i) { return (Number(String(variant.seed).slice(-9)) + 7919 * i) >>> 0; }

  // ---------------------------------------------------------------- answer fields
  function entryLabel(answer, idx) {
    if (answer.kind === "named") return answer.keys[idx[0]];
    if (idx.length === 1) return "entry " + (idx[0] + 1);
    if (idx.length === 2) return "row " + (idx[0] + 1) + ", column " + (idx[1] + 1);
    return "answer";
  }

  function makeInput(q, answer, idx, isExpr) {
    const id = q.uid + "-" + answer.name + "-" + idx.join("-");
    const wrap = $("div", { class: "entry" + (isExpr ? " expr" : "") });
    const aria = answer.plainLabel + (idx.length ? " " + entryLabel(answer, idx) : "");
    const input = $("input", { id: id, type: "text", inputmode: isExpr ? "text" : "decimal", autocomplete: "off",
                               autocapitalize: "off", spellcheck: "false", "aria-label": aria,
                               "aria-describedby": id + "-preview", class: "answer-input" });
    const preview = $("div", { id: id + "-preview", class: "preview", "aria-live": "polite" });
    if (answer.kind === "named") wrap.appendChild($("label", { for: id, text: answer.keys[idx[0]] + " =" }));
    wrap.appendChild(input);
    wrap.appendChild(preview);
    const field = { input, preview, idx, isExpr };
    input.addEventListener("input", () => showPreview(answer, field));
    input.addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); q.check(); } });
    return [wrap, field];
  }

  function readField(answer, field) {
    const text = field.input.value;
    return field.isExpr ? QG.read(text, answer.variables || []) : QG.readNumber(text);
  }

  function showPreview(answer, field) {
    const text = field.input.value;
    field.preview.classList.remove("error");
    if (!text.trim()) { field.preview.innerHTML = ""; return; }
    const r = readField(answer, field);
    if (r.ok) field.preview.innerHTML = '<span class="read-as">read as</span> ' + QG.toMathML(r.node) +
      ' <span class="sr-only">' + escText(r.text) + "</span>";
    else showError(field.preview, r);
  }

  function escText(s) { const d = document.createElement("span"); d.textContent = s; return d.innerHTML; }

  function showError(el, r) {
    el.classList.add("error");
    const p = Math.max(0, Math.min(r.position, r.input.length));
    const at = r.input.slice(p, p + 1) || "\u00a0";
    el.innerHTML = '<span class="msg">' + escText(r.message) + "</span> " +
      '<code class="where" aria-hidden="true">' + escText(r.input.slice(0, p)) + "<mark>" + escText(at) + "</mark>" +
      escText(r.input.slice(p + 1)) + "</code>" +
      '<span class="sr-only"> (at character ' + (p + 1) + ")</span>";
  }

  function buildAnswer(q, answer) {
    const box = $("fieldset", { class: "answer kind-" + answer.kind });
    box.appendChild($("legend", {}, answer.label));
    answer.plainLabel = box.querySelector("legend").textContent.trim() || answer.name;
    const fields = [];
    if (answer.kind === "unchecked") {
      box.appendChild($("p", { class: "note", text: "This part is not checked on this page: compare your answer with the worked solution." }));
      return { box, answer, fields };
    }
    if (answer.kind === "label") {
      const group = $("div", { class: "labels", role: "radiogroup", "aria-label": answer.plainLabel });
      (answer.labels || []).forEach((l, i) => {
        const id = q.uid + "-" + answer.name + "-l" + i;
        const lab = $("label", { for: id });
        const r = $("input", { type: "radio", name: q.uid + "-" + answer.name, id: id, value: l });
        lab.appendChild(r); lab.appendChild(document.createTextNode(" " + l));
        group.appendChild(lab);
        fields.push({ radio: r });
      });
      box.appendChild(group);
      return { box, answer, fields };
    }
    const isExpr = answer.kind === "expression";
    const shape = answer.kind === "named" ? [answer.keys.length] : answer.shape || [];
    if (shape.length === 0) {
      const [el, f] = makeInput(q, answer, [], isExpr);
      box.appendChild(el); fields.push(f);
    } else {
      const scroller = $("div", { class: "grid-scroll", tabindex: "0", role: "group",
                                  "aria-label": answer.plainLabel + (shape.length === 2 ? ", " + shape[0] + " by " + shape[1] + " matrix" : ", " + shape[0] + " entries") });
      const grid = $("div", { class: "grid" + (shape.length === 2 ? " matrix" : " vector") + (answer.kind === "named" ? " named" : "") });
      const cols = shape.length === 2 ? shape[1] : 1;
      grid.style.gridTemplateColumns = "repeat(" + cols + ", max-content)";
      for (let i = 0; i < shape[0]; i++) {
        for (let j = 0; j < cols; j++) {
          const [el, f] = makeInput(q, answer, shape.length === 2 ? [i, j] : [i], isExpr);
          grid.appendChild(el); fields.push(f);
        }
      }
      scroller.appendChild(grid);
      box.appendChild(scroller);
      box.appendChild($("p", { class: "scroll-cue", "aria-hidden": "true", text: "scroll sideways for more \u2192" }));
    }
    return { box, answer, fields };
  }

  // ---------------------------------------------------------------- verdicts

  const at = (value, idx) => idx.reduce((v, i) => v[i], value);

  /** One answer: "correct" | {misconception} | "wrong" | "cannot-check" | {unread}. */
  function judge(part, seed) {
    const a = part.answer;
    if (a.kind === "unchecked") return { kind: "unchecked" };
    if (a.kind === "label") {
      const chosen = part.fields.find(f => f.radio.checked);
      if (!chosen) return { kind: "unread", field: null, read: { message: "Choose one of the options." } };
      const m = (a.misconceptions || []).find(m => m.value === chosen.radio.value);
      return chosen.radio.value === a.value ? { kind: "correct" } : m ? { kind: "misconception", m } : { kind: "wrong" };
    }
    const reads = part.fields.map(f => readField(a, f));
    const bad = reads.findIndex(r => !r.ok);
    if (bad >= 0) return { kind: "unread", field: part.fields[bad], read: reads[bad] };
    const matches = value => {
      let unsure = false;
      for (let k = 0; k < part.fields.length; k++) {
        const key = part.fields[k].idx.length ? at(value, part.fields[k].idx) : value;
        if (a.kind === "expression") {
          const v = QG.equivalent(reads[k], String(key), { variables: a.variables, seed: seed + k });
          if (v.verdict === "different") return "no";
          if (v.verdict === "cannot-check") unsure = true;
        } else if (!QG.withinTolerance(reads[k].value, key, a.tolerance)) return "no";
      }
      return unsure ? "unsure" : "yes";
    };
    const key = matches(a.value);
    if (key === "yes") return { kind: "correct" };
    if (key === "unsure") return { kind: "cannot-check" };
    for (const m of a.misconceptions || []) if (matches(m.value) === "yes") return { kind: "misconception", m };
    return { kind: "wrong" };
  }

  // ---------------------------------------------------------------- one question card
  function Card(pool, index, app) {
    const card = $("section", { class: "card", id: "t-" + pool.id, "aria-labelledby": "h-" + pool.id });
    const head = $("header", { class: "card-head" });
    head.appendChild($("h2", { id: "h-" + pool.id, text: pool.title }));
    head.appendChild($("p", { class: "where", text: pool.module_title + " \u00b7 " + pool.topic_title }));
    const counter = $("p", { class: "counter" });
    head.appendChild(counter);
    const next = $("button", { type: "button", class: "new-variant", text: "New variant" });
    if (pool.variants.length < 2) { next.disabled = true; next.title = "only one variant in this page"; }
    head.appendChild(next);
    card.appendChild(head);
    const body = $("div", { class: "card-body" });
    card.appendChild(body);
    let current = 0;
    next.addEventListener("click", () => { show((current + 1) % pool.variants.length); body.querySelector("input, button")?.focus(); });

    function show(k) {
      current = k;
      counter.textContent = "Variant " + (k + 1) + " of " + pool.variants.length;
      body.innerHTML = "";
      renderVariant(body, pool, pool.variants[k], app, index + "-" + k);
    }
    show(0);
    return card;
  }

  function figureEl(fig, cls) {
    const el = $("figure", { class: "figure " + cls });
    const img = $("div", { role: "img", "aria-label": fig.alt }, fig.svg);
    el.appendChild(img);
    el.appendChild($("figcaption", { class: "sr-only", text: fig.alt }));
    return el;
  }

  function renderVariant(body, pool, v, app, uid) {
    const q = { uid: "q" + uid };
    body.appendChild($("div", { class: "prompt" }, v.prompt));
    if (v.figure) body.appendChild(figureEl(v.figure, "question-figure"));

    const typed = $("div", { class: "typed" });
    const parts = v.answers.map(a => buildAnswer(q, a));
    parts.forEach(p => typed.appendChild(p.box));
    body.appendChild(typed);

    let choices = null, mode = "typed";
    const modeBtn = v.choices ? $("button", { type: "button", class: "mode", "aria-pressed": "false", text: "Multiple choice instead" }) : null;
    if (v.choices) {
      choices = $("div", { class: "choices", hidden: true, role: "group", "aria-label": "Choices for " + parts[0].answer.plainLabel });
      v.choices.forEach((c, i) => {
        const b = $("button", { type: "button", class: "choice", "data-index": i },
                    '<span class="letter">' + "ABCDEFGH"[i] + ".</span> " + c.html);
        b.addEventListener("click", () => choose(i));
        choices.appendChild(b);
      });
      body.appendChild(choices);
    }

    const actions = $("div", { class: "actions" });
    const checkBtn = $("button", { type: "button", class: "check", text: "Check" });
    const hintBtn = $("button", { type: "button", class: "hint-button", text: "Hint" });
    const giveUp = $("button", { type: "button", class: "give-up", text: "Give up" });
    [checkBtn, hintBtn, giveUp].forEach(b => actions.appendChild(b));
    if (modeBtn) actions.appendChild(modeBtn);
    body.appendChild(actions);
    const verdict = $("div", { class: "verdict", role: "status", "aria-live": "polite" });
    body.appendChild(verdict);
    const hint = $("div", { class: "hint", hidden: true });
    body.appendChild(hint);
    const solution = $("div", { class: "solution", hidden: true });
    body.appendChild(solution);

    let attempts = 0, done = false;
    const seed = Number(String(v.seed).slice(-9)) >>> 0;

    function revealSolution(heading) {
      if (!solution.hidden) return;
      solution.innerHTML = "<h3>" + heading + "</h3>" +
        '<div class="key">' + v.answers.map(a => a.key ? "<p>" + a.key + "</p>" : "").join("") + "</div>" +
        v.solution;
      if (v.solution_figure) solution.appendChild(figureEl(v.solution_figure, "solution-figure"));
      solution.hidden = false;
    }

    function record(solved) {
      const p = Progress.load();
      p.attempts[pool.id] = (p.attempts[pool.id] || 0) + 1;
      if (solved) {
        const s = new Set(p.solved[pool.id] || []); s.add(String(v.seed)); p.solved[pool.id] = Array.from(s);
      }
      Progress.save(p); app.refreshProgress();
    }

    function say(cls, html) { verdict.className = "verdict " + cls; verdict.innerHTML = html; }

    q.check = function () {
      if (done) return;
      if (mode === "choices") { say("info", "Click one of the choices."); return; }
      const results = parts.map((p, i) => judge(p, seed + 101 * i));
      const unread = results.findIndex(r => r.kind === "unread");
      if (unread >= 0) {
        const r = results[unread];
        const f = r.field;
        if (f && f.preview) { showError(f.preview, r.read); f.input.focus(); }
        say("info", escText(parts[unread].answer.plainLabel + ": " + r.read.message));
        return;
      }
      attempts++;
      const checked = results.filter(r => r.kind !== "unchecked");
      if (checked.every(r => r.kind === "correct")) {
        done = true; record(true);
        say("right", "\u2713 Correct" + (attempts > 1 ? " (attempt " + attempts + ")" : "") + ". The worked solution is below.");
        revealSolution("Worked solution");
        return;
      }
      record(false);
      const lines = results.map((r, i) => {
        const label = parts[i].answer.label;
        if (r.kind === "correct") return "<li>" + label + ": \u2713 right</li>";
        if (r.kind === "misconception") {
          return '<li class="mistake" data-misconception="' + escText(r.m.name).replace(/"/g, "&quot;") + '">' +
            label + ": " + r.m.feedback + "</li>";
        }
        if (r.kind === "cannot-check") return "<li>" + label + ": cannot check this automatically (undefined at most test points). Compare it with the worked solution.</li>";
        if (r.kind === "unchecked") return "";
        return "<li>" + label + ": not yet.</li>";
      }).join("");
      say("wrong", "<p>\u2717 Not yet \u2014 attempt " + attempts + ".</p><ul>" + lines + "</ul>");
    };

    function choose(i) {
      if (done) return;
      const c = v.choices[i];
      attempts++;
      choices.querySelectorAll(".choice").forEach((b, k) => b.classList.toggle("picked", k === i));
      if (c.correct) {
        done = true; record(true);
        say("right", "\u2713 Correct. The worked solution is below.");
        revealSolution("Worked solution");
      } else {
        record(false);
        say("wrong", "<p>\u2717 Not yet \u2014 attempt " + attempts + ".</p><p class=\"mistake\">" + c.feedback + "</p>");
      }
    }

    checkBtn.addEventListener("click", q.check);
    hintBtn.addEventListener("click", () => { hint.innerHTML = "<h3>Hint</h3>" + v.hint; hint.hidden = false; });
    giveUp.addEventListener("click", () => {
      done = true;
      say("info", "Here is the answer and the worked solution. Try a new variant next.");
      revealSolution("Answer and worked solution");
    });
    if (modeBtn) modeBtn.addEventListener("click", () => {
      mode = mode === "typed" ? "choices" : "typed";
      typed.hidden = mode === "choices"; choices.hidden = mode === "typed";
      checkBtn.hidden = mode === "choices";
      modeBtn.setAttribute("aria-pressed", String(mode === "choices"));
      modeBtn.textContent = mode === "choices" ? "Type the answer instead" : "Multiple choice instead";
    });
    requestAnimationFrame(() => markOverflow(body));
  }

  function markOverflow(root) {
    root.querySelectorAll(".grid-scroll").forEach(s => {
      s.parentElement.classList.toggle("overflowing", s.scrollWidth > s.clientWidth + 1);
    });
  }

  // ---------------------------------------------------------------- the app
  async function start() {
    const data = await unpack(document.getElementById("qg-data").textContent);
    const main = document.getElementById("app");
    main.innerHTML = "";
    const app = { refreshProgress };
    const progress = document.getElementById("progress");
    data.templates.forEach((pool, i) => main.appendChild(Card(pool, i, app)));
    function refreshProgress() {
      const p = Progress.load(), topics = new Map();
      for (const pool of data.templates) {
        const t = topics.get(pool.topic_title) || { solved: 0, total: 0 };
        t.total++; if ((p.solved[pool.id] || []).length) t.solved++;
        topics.set(pool.topic_title, t);
      }
      const attempts = Object.values(p.attempts).reduce((a, b) => a + b, 0);
      progress.innerHTML = "";
      progress.appendChild($("p", { text: attempts + " attempt" + (attempts === 1 ? "" : "s") + " so far." }));
      const ul = $("ul", {});
      topics.forEach((t, name) => ul.appendChild($("li", { text: name + ": " + t.solved + " of " + t.total + " solved" })));
      progress.appendChild(ul);
    }
    refreshProgress();
    document.getElementById("reset").addEventListener("click", () => { Progress.reset(); refreshProgress(); });
    window.addEventListener("resize", () => markOverflow(main));
    document.body.dataset.ready = "true";
  }

  start().catch(err => {
    document.getElementById("app").textContent = "This page could not start: " + err.message +
      " (it needs a current browser: Chrome, Edge, Firefox or Safari from 2023 on).";
    throw err;
  });
})();
