import type { ButtonParam, CarouselCard, HeaderValue, TemplateRef } from '../contracts/common';
import type { ButtonSpec, PartSpec, TemplateSpec } from './spec';

/**
 * Checks a request's template parameters against the template's real structure (as synced from
 * Meta or declared in the catalogue) and names every mismatch: which component, which parameter,
 * what was expected. Meta refuses the same mismatches with 132000 (count), 132012 (format) and
 * 131008/131009 (missing/invalid values) — developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes —
 * so catching them here keeps a broadcast from failing once per recipient.
 */
export function checkTemplateRef(ref: TemplateRef, spec: TemplateSpec, options: { partial?: boolean } = {}): string[] {
  const problems: string[] = [];
  // partial: per-recipient values (recipient objects, audience columns) fill what is missing here.
  const partial = options.partial === true;
  if (spec.unsupported.length > 0) problems.push(`template has components the product cannot fill: ${spec.unsupported.join(', ')}`);
  checkHeader(headerOf(ref, problems), spec.header, spec.parameterFormat, 'header', problems, partial);
  checkBody(ref, spec, problems, partial);
  checkButtons(ref.buttonParams ?? [], spec.buttons, spec.source === 'catalog', 'buttonParams', problems, partial);
  if (spec.cards && !(partial && ref.cards === undefined)) {
    const cards = ref.cards ?? [];
    if (cards.length !== spec.cards.length) problems.push(`cards: carousel template has ${spec.cards.length} cards, got ${cards.length}`);
    cards.slice(0, spec.cards.length).forEach((card, i) => checkCard(card, spec.cards![i]!, `cards[${i}]`, problems));
  } else if (ref.cards !== undefined) problems.push('cards: template is not a carousel');
  if (spec.limitedTimeOffer?.hasExpiration && ref.limitedTimeOffer === undefined) {
    problems.push('limitedTimeOffer: template shows an offer expiry; give `limitedTimeOffer.expirationTimeMs`');
  } else if (!spec.limitedTimeOffer && ref.limitedTimeOffer !== undefined) problems.push('limitedTimeOffer: template has no limited-time offer');
  return problems;
}

function headerOf(ref: TemplateRef, problems: string[]): HeaderValue | undefined {
  if (ref.headerParams !== undefined && ref.header !== undefined) problems.push('header: give `header` or `headerParams`, not both');
  if (ref.header) return ref.header;
  const text = ref.headerParams?.[0];
  return text === undefined ? undefined : { type: 'text', text };
}

function checkHeader(value: HeaderValue | undefined, spec: PartSpec['header'], format: string, where: string, problems: string[], partial = false): void {
  if (!spec) {
    if (value) problems.push(`${where}: template has no header`);
    return;
  }
  if (spec.format === 'TEXT') {
    if (spec.params.length === 0) {
      if (value) problems.push(`${where}: the template's text header takes no parameter`);
      return;
    }
    if (!value) {
      if (!partial) problems.push(`${where}: text header takes 1 parameter {{${spec.params[0]}}}, got none`);
    } else if (value.type !== 'text') problems.push(`${where}: template header is TEXT, got ${value.type}`);
    else if (format === 'NAMED' && value.parameterName !== undefined && value.parameterName !== spec.params[0]) {
      problems.push(`${where}: named header parameter is {{${spec.params[0]}}}, got ${value.parameterName}`);
    }
    return;
  }
  const want = spec.format.toLowerCase();
  if (!value) {
    if (!partial) problems.push(`${where}: template header is ${spec.format}; give \`header: {type: "${want}", …}\``);
  } else if (value.type !== want) problems.push(`${where}: template header is ${spec.format}, got ${value.type}`);
}

function checkBody(ref: TemplateRef, spec: TemplateSpec, problems: string[], partial: boolean): void {
  const expected = spec.body;
  if (spec.parameterFormat === 'NAMED') {
    if (ref.bodyParams !== undefined && ref.bodyParams.length > 0)
      problems.push(`bodyParams: template uses named parameters (${expected.join(', ')}); give \`namedParams\``);
    const given = Object.keys(ref.namedParams ?? {});
    const missing = expected.filter((n) => !given.includes(n));
    const unknown = given.filter((n) => !expected.includes(n));
    if (missing.length > 0 && !partial) problems.push(`namedParams: missing ${missing.join(', ')}`);
    if (unknown.length > 0) problems.push(`namedParams: template has no parameter ${unknown.join(', ')}`);
    return;
  }
  if (ref.namedParams !== undefined && Object.keys(ref.namedParams).length > 0)
    problems.push('namedParams: template uses positional parameters {{1}}, {{2}}, …; give `bodyParams`');
  if (partial && ref.bodyParams === undefined) return;
  const count = ref.bodyParams?.length ?? 0;
  if (count !== expected.length) problems.push(`bodyParams: body takes ${expected.length} parameters, got ${count}`);
}

function checkCard(card: CarouselCard, spec: PartSpec, where: string, problems: string[]): void {
  checkHeader(card.header, spec.header, 'POSITIONAL', `${where}.header`, problems);
  const count = card.bodyParams?.length ?? 0;
  if (count !== spec.body.length) problems.push(`${where}.bodyParams: card body takes ${spec.body.length} parameters, got ${count}`);
  checkButtons(card.buttonParams ?? [], spec.buttons, false, `${where}.buttonParams`, problems);
}

function valueProblem(b: ButtonParam): string | undefined {
  if ((b.subType === 'url' || b.subType === 'quick_reply' || b.subType === 'copy_code') && b.text === undefined) return `${b.subType} takes \`text\``;
  if (b.subType === 'copy_code' && b.text !== undefined && b.text.length > 15) return 'a copy code is at most 15 characters';
  if (b.subType === 'mpm' && (b.thumbnailProductRetailerId === undefined || b.sections === undefined))
    return 'mpm takes `thumbnailProductRetailerId` and `sections`';
  return undefined;
}

function checkButtons(given: readonly ButtonParam[], spec: readonly ButtonSpec[], anyKind: boolean, where: string, problems: string[], partial = false): void {
  const seen = new Set<number>();
  given.forEach((b, i) => {
    const at = `${where}[${i}]`;
    if (seen.has(b.index)) problems.push(`${at}: button index ${b.index} given twice`);
    seen.add(b.index);
    const s = spec.find((x) => x.index === b.index);
    if (!s) {
      problems.push(`${at}: template has no button at index ${b.index} (it has ${spec.length})`);
      return;
    }
    if (!anyKind && s.type !== 'ANY') {
      if (s.subType === undefined) problems.push(`${at}: button ${b.index} is ${s.type} and takes no parameter`);
      else if (s.subType !== b.subType) problems.push(`${at}: button ${b.index} is ${s.type} (sub_type ${s.subType}), got ${b.subType}`);
    }
    const bad = valueProblem(b);
    if (bad) problems.push(`${at}: ${bad}`);
  });
  for (const s of spec) {
    if (s.required && !partial && !seen.has(s.index)) problems.push(`${where}: button ${s.index} (${s.type}) takes a parameter, got none`);
  }
}

/** Fills what the template fixes and the request may leave out: the name of a named header parameter. */
export function withSpecNames(ref: TemplateRef, spec: TemplateSpec): TemplateRef {
  if (spec.parameterFormat !== 'NAMED' || spec.header?.format !== 'TEXT' || spec.header.params.length === 0) return ref;
  const header = headerOf(ref, []);
  if (!header || header.type !== 'text' || header.parameterName !== undefined) return ref;
  const { headerParams: _legacy, ...rest } = ref;
  return { ...rest, header: { ...header, parameterName: spec.header.params[0]! } };
}
