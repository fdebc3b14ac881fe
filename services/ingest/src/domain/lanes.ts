import { laneForCategory, type Lane, type MessageCategory } from '@wa/shared/contracts/common';

export type Priority = 'high' | 'normal' | 'bulk';

/**
 * Authentication always rides the auth lane. Otherwise the category decides, unless the caller
 * raised the priority (`high` → utility lane) or marked the job as bulk (`bulk` → marketing lane,
 * behind everything else).
 */
export function laneFor(category: MessageCategory, priority: Priority | undefined): Lane {
  if (category === 'authentication') return 'auth';
  if (priority === 'high') return 'utility';
  if (priority === 'bulk') return 'marketing';
  return laneForCategory(category);
}
