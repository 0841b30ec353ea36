import type { BillingProfile } from '../../domain/billing.js';
import type { BillingProfileView } from '../../schemas/billing.js';

/** The billing profile as SendGrid's `/v3/billing/profile` answers it. */
export function billingProfileView(profile: BillingProfile): BillingProfileView {
  return { plan: profile.plan, contact: { ...profile.contact }, updated_at: profile.updatedAt };
}
