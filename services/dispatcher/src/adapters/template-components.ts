import type { ButtonParam, CarouselCard, HeaderValue, MediaRef, ParamValue, TemplateRef } from '@wa/shared/contracts/common';

/**
 * Meta's `template.components` for a send, from the product's template parameters. Shapes follow
 * developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (template object, parameter
 * object: text, currency, date_time, image/video/document, location, payload, coupon_code, action,
 * limited_time_offer) and …/cloud-api/guides/send-message-templates/media-card-carousel-templates.
 */
export function templateComponents(t: TemplateRef): unknown[] {
  const components: unknown[] = [];
  const header = t.header ?? (t.headerParams?.[0] !== undefined ? ({ type: 'text', text: t.headerParams[0] } as const) : undefined);
  if (header) components.push({ type: 'header', parameters: [headerParameter(header)] });
  if (t.limitedTimeOffer) {
    components.push({
      type: 'limited_time_offer',
      parameters: [{ type: 'limited_time_offer', limited_time_offer: { expiration_time_ms: t.limitedTimeOffer.expirationTimeMs } }],
    });
  }
  if (t.namedParams && Object.keys(t.namedParams).length > 0) {
    components.push({ type: 'body', parameters: Object.entries(t.namedParams).map(([name, v]) => ({ ...parameter(v), parameter_name: name })) });
  } else if (t.bodyParams?.length) components.push({ type: 'body', parameters: t.bodyParams.map(parameter) });
  for (const b of t.buttonParams ?? []) components.push(button(b));
  if (t.cards) components.push({ type: 'carousel', cards: t.cards.map(card) });
  return components;
}

export function parameter(v: ParamValue): Record<string, unknown> {
  if (typeof v === 'string') return { type: 'text', text: v };
  if (v.type === 'currency') return { type: 'currency', currency: { fallback_value: v.fallbackValue, code: v.code, amount_1000: v.amount1000 } };
  return { type: 'date_time', date_time: { fallback_value: v.fallbackValue } };
}

/** A media object as Meta takes it: `{id}` or `{link}`, plus filename (documents) and caption (free-form). */
export function media(m: MediaRef, kind: string, withCaption: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = m.id !== undefined ? { id: m.id } : { link: m.link };
  if (kind === 'document' && m.filename !== undefined) out.filename = m.filename;
  if (withCaption && m.caption !== undefined) out.caption = m.caption;
  return out;
}

function headerParameter(h: HeaderValue): Record<string, unknown> {
  switch (h.type) {
    case 'text':
      return h.parameterName !== undefined ? { type: 'text', parameter_name: h.parameterName, text: h.text } : { type: 'text', text: h.text };
    case 'image':
      return { type: 'image', image: media(h.image, 'image', false) };
    case 'video':
      return { type: 'video', video: media(h.video, 'video', false) };
    case 'document':
      return { type: 'document', document: media(h.document, 'document', false) };
    case 'location':
      return { type: 'location', location: { ...h.location } };
  }
}

function button(b: ButtonParam): Record<string, unknown> {
  return { type: 'button', sub_type: b.subType, index: String(b.index), parameters: [buttonParameter(b)] };
}

function buttonParameter(b: ButtonParam): Record<string, unknown> {
  switch (b.subType) {
    case 'quick_reply':
      return { type: 'payload', payload: b.text };
    case 'copy_code':
      return { type: 'coupon_code', coupon_code: b.text };
    case 'url':
      return { type: 'text', text: b.text };
    case 'flow': {
      const action: Record<string, unknown> = {};
      if (b.flowToken !== undefined) action.flow_token = b.flowToken;
      if (b.flowActionData !== undefined) action.flow_action_data = b.flowActionData;
      return { type: 'action', action };
    }
    case 'catalog':
      return { type: 'action', action: b.thumbnailProductRetailerId !== undefined ? { thumbnail_product_retailer_id: b.thumbnailProductRetailerId } : {} };
    case 'mpm':
      return {
        type: 'action',
        action: {
          thumbnail_product_retailer_id: b.thumbnailProductRetailerId,
          sections: (b.sections ?? []).map((s) => ({ title: s.title, product_items: s.productRetailerIds.map((id) => ({ product_retailer_id: id })) })),
        },
      };
  }
}

function card(c: CarouselCard, index: number): Record<string, unknown> {
  const components: unknown[] = [{ type: 'header', parameters: [headerParameter(c.header)] }];
  if (c.bodyParams?.length) components.push({ type: 'body', parameters: c.bodyParams.map(parameter) });
  for (const b of c.buttonParams ?? []) components.push(button(b));
  return { card_index: index, components };
}
