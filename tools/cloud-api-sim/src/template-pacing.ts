import type { TemplateState } from './world';

/**
 * Template pacing: a new marketing template (quality UNKNOWN) is sent normally until a threshold,
 * then further sends are held for a quality assessment — the send answer says
 * `message_status: held_for_quality_assessment` and no status webhook follows yet. When the
 * assessment ends, a good signal releases the held messages (their statuses follow, the template is
 * rated GREEN and no longer paced); a bad one pauses the template and drops them (a `failed` status
 * with 132015).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-pacing
 */
export interface PacingRules {
  /** Sends of a paced template that go out before holding starts (Meta: "an unspecified threshold"). */
  threshold: number;
  /** How long held messages wait for the verdict, in sim-time. */
  assessmentMs: number;
  verdict: 'release' | 'pause';
}

interface PacedTemplate {
  sent: number;
  held: number[];
  deciding: boolean;
  done: boolean;
}

export class TemplatePacing {
  private readonly templates = new Map<number, PacedTemplate>();

  constructor(
    private readonly rules: PacingRules,
    /** Runs a task at a sim-time. */
    private readonly at: (atMs: number, task: () => void) => void,
    /** The assessment's outcome for the messages it held. */
    private readonly decide: (template: TemplateState, held: number[], verdict: PacingRules['verdict']) => void,
  ) {}

  /** Whether this accepted message (store index) is held rather than sent now. */
  hold(template: TemplateState, messageIdx: number, now: number): boolean {
    if (template.category !== 'marketing' || template.quality !== 'UNKNOWN') return false;
    let t = this.templates.get(template.idx);
    if (t === undefined) this.templates.set(template.idx, (t = { sent: 0, held: [], deciding: false, done: false }));
    if (t.done) return false;
    if (t.sent < this.rules.threshold) {
      t.sent += 1;
      return false;
    }
    t.held.push(messageIdx);
    if (!t.deciding) {
      t.deciding = true;
      const paced = t;
      this.at(now + this.rules.assessmentMs, () => {
        paced.done = true;
        this.decide(template, paced.held.splice(0), this.rules.verdict);
      });
    }
    return true;
  }

  /** Messages held now, for ground truth. */
  get heldCount(): number {
    let n = 0;
    for (const t of this.templates.values()) n += t.held.length;
    return n;
  }
}
