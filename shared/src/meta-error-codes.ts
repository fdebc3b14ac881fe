// Generated from shared/data/cloud-api-errors.json by `npm run meta-errors:gen` (do not edit; a unit test keeps them in sync).
// Meta's pages, checked 2026-12-06:
//   https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
//   https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/
//   https://developers.facebook.com/docs/graph-api/guides/error-handling
import type { MetaErrorAction } from './meta-errors';

export interface MetaErrorCodeRow {
  readonly code: number;
  readonly title: string;
  readonly meaning: string;
  readonly action: MetaErrorAction;
}

export const META_ERROR_CODES: readonly MetaErrorCodeRow[] = [
  { code: 0, title: "AuthException", meaning: "Could not authenticate the app user", action: "auth" },
  { code: 1, title: "API Unknown", meaning: "Invalid request or possible server error", action: "retry" },
  { code: 2, title: "API Service", meaning: "Temporary service error", action: "retry" },
  { code: 3, title: "API Method", meaning: "Capability or permissions issue", action: "auth" },
  { code: 4, title: "API Too Many Calls", meaning: "App reached its API call rate limit", action: "throttle" },
  { code: 10, title: "Permission Denied", meaning: "Permission not granted or removed", action: "auth" },
  { code: 33, title: "Object does not exist / no permission", meaning: "The phone number id (or object) does not exist, or the token lacks permission for it", action: "auth" },
  { code: 100, title: "Invalid parameter", meaning: "Request has an invalid or unsupported parameter", action: "fix_request" },
  { code: 190, title: "Access token has expired", meaning: "Access token invalid or expired", action: "auth" },
  { code: 368, title: "Temporarily blocked for policy violations", meaning: "Account restricted for policy violations", action: "auth" },
  { code: 80007, title: "Rate limit issues", meaning: "WhatsApp Business Account reached its rate limit", action: "throttle" },
  { code: 130429, title: "Rate limit hit", meaning: "Cloud API throughput limit for the number reached", action: "throttle" },
  { code: 130472, title: "User's number is part of an experiment", meaning: "Message not sent as part of a Meta experiment", action: "permanent" },
  { code: 130497, title: "Business account restricted from messaging users in this country", meaning: "Country restriction", action: "permanent" },
  { code: 131000, title: "Something went wrong", meaning: "Unknown error", action: "retry" },
  { code: 131005, title: "Access denied", meaning: "Permission not granted or removed", action: "auth" },
  { code: 131008, title: "Required parameter is missing", meaning: "Missing required parameter", action: "fix_request" },
  { code: 131009, title: "Parameter value is not valid", meaning: "Invalid parameter value", action: "fix_request" },
  { code: 131016, title: "Service unavailable", meaning: "Temporarily unavailable", action: "retry" },
  { code: 131021, title: "Recipient cannot be sender", meaning: "Sender and recipient are the same", action: "permanent" },
  { code: 131026, title: "Message undeliverable", meaning: "Recipient not on WhatsApp, old app, or terms not accepted", action: "permanent" },
  { code: 131031, title: "Account has been locked", meaning: "Business account locked", action: "auth" },
  { code: 131037, title: "Display name approval needed", meaning: "The sender phone number's display name is not approved", action: "auth" },
  { code: 131042, title: "Business eligibility payment issue", meaning: "Payment method problem", action: "auth" },
  { code: 131045, title: "Incorrect certificate", meaning: "Phone number not registered properly", action: "auth" },
  { code: 131047, title: "Re-engagement message", meaning: "More than 24 hours since the customer last replied; send a template", action: "permanent" },
  { code: 131048, title: "Spam rate limit hit", meaning: "Too many messages blocked or flagged; slow down", action: "throttle" },
  { code: 131049, title: "Meta chose not to deliver", meaning: "Per-user marketing limit to keep engagement healthy; do not retry soon", action: "permanent" },
  { code: 131050, title: "User has stopped marketing messages", meaning: "Recipient opted out of marketing", action: "permanent" },
  { code: 131051, title: "Unsupported message type", meaning: "Message type not supported", action: "fix_request" },
  { code: 131052, title: "Media download error", meaning: "Could not download user's media", action: "permanent" },
  { code: 131053, title: "Media upload error", meaning: "Could not upload the media", action: "permanent" },
  { code: 131056, title: "Pair rate limit hit", meaning: "Too many messages to the same user in a short time", action: "throttle" },
  { code: 131057, title: "Account in maintenance mode", meaning: "Business account under maintenance", action: "retry" },
  { code: 132000, title: "Template param count mismatch", meaning: "Parameter count differs from the template", action: "permanent" },
  { code: 132001, title: "Template does not exist", meaning: "Template name/language not found or not approved", action: "permanent" },
  { code: 132005, title: "Template hydrated text too long", meaning: "Text with parameters exceeds the limit", action: "permanent" },
  { code: 132007, title: "Template format character policy violated", meaning: "Content violates policy", action: "permanent" },
  { code: 132012, title: "Template parameter format mismatch", meaning: "Parameter format wrong", action: "permanent" },
  { code: 132015, title: "Template is paused", meaning: "Paused for low quality", action: "permanent" },
  { code: 132016, title: "Template is disabled", meaning: "Disabled for low quality", action: "permanent" },
  { code: 132068, title: "Flow is blocked", meaning: "Flow blocked", action: "permanent" },
  { code: 132069, title: "Flow is throttled", meaning: "Flow throttled", action: "throttle" },
  { code: 133000, title: "Incomplete deregistration", meaning: "Previous deregistration failed", action: "auth" },
  { code: 133004, title: "Server temporarily unavailable", meaning: "Retry later", action: "retry" },
  { code: 133005, title: "Two step verification PIN mismatch", meaning: "Wrong PIN", action: "auth" },
  { code: 133006, title: "Phone number re-verification needed", meaning: "Verify the number", action: "auth" },
  { code: 133008, title: "Too many two step verification PIN guesses", meaning: "Try later", action: "auth" },
  { code: 133009, title: "Two step verification PIN guessed too fast", meaning: "Try later", action: "auth" },
  { code: 133010, title: "Phone number not registered", meaning: "Number not registered on the platform", action: "auth" },
  { code: 133015, title: "Please wait before registering", meaning: "Recently deleted number", action: "auth" },
  { code: 133016, title: "Account register/deregister rate limit exceeded", meaning: "Too many attempts", action: "throttle" },
  { code: 134011, title: "Business not eligible / verification required", meaning: "Business portfolio must complete verification or is not eligible for the requested capability (check Meta's current table)", action: "auth" },
  { code: 135000, title: "Generic user error", meaning: "Unexpected user error", action: "permanent" },
];
