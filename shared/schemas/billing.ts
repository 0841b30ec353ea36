import * as z from 'zod';
import { CONTACT_FIELDS, type ContactField, EMPTY_UPDATE_MESSAGE } from '../domain/billing.js';
import { CONTROL_CHARACTERS, INVISIBLE_CHARACTERS, INVISIBLE_MESSAGE } from './text.js';

/**
 * Request and response schemas of the billing profile (`/v3/billing/profile`). The same schemas
 * validate requests, type the wire views (`shared/http/wire/billing.ts`) and generate
 * `GET /openapi.json`.
 */

export { CONTACT_FIELDS, type ContactField, EMPTY_UPDATE_MESSAGE };

export const PLAN_READ_ONLY_MESSAGE = 'the plan cannot be changed through the API';

/** Longest accepted value of each field, after trimming. */
export const CONTACT_MAX_LENGTH: Readonly<Record<ContactField, number>> = {
  first_name: 100,
  last_name: 100,
  email: 254,
  company: 100,
  address1: 100,
  address2: 100,
  city: 100,
  state: 100,
  zip: 16,
  country: 2,
  phone: 32,
};

const ZIP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 -]*$/;
const PHONE_PATTERN = /^\+?[0-9 ().-]*[0-9][0-9 ().-]*$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;

/** A trimmed, non-empty string without control characters; `null` clears the field. */
function contactText(field: ContactField, description: string) {
  const max = CONTACT_MAX_LENGTH[field];
  return z
    .string({ error: `${field} must be a string or null` })
    .trim()
    .min(1, { error: `${field} must not be empty (send null to clear it)`, abort: true })
    .max(max, `${field} must be at most ${max} characters`)
    .refine((v) => !CONTROL_CHARACTERS.test(v), `${field} must not contain control characters`)
    .refine((v) => !INVISIBLE_CHARACTERS.test(v), INVISIBLE_MESSAGE(field))
    .meta({ description });
}

const clearable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

export const UpdateBillingProfileBody = z
  .object({
    first_name: clearable(contactText('first_name', 'First name of the billing contact.')),
    last_name: clearable(contactText('last_name', 'Last name of the billing contact.')),
    email: clearable(
      contactText('email', 'Email address invoices are sent to.').regex(
        z.regexes.email,
        'email must be a valid email address',
      ),
    ),
    company: clearable(contactText('company', 'Company name on invoices.')),
    address1: clearable(contactText('address1', 'First line of the billing address.')),
    address2: clearable(contactText('address2', 'Second line of the billing address.')),
    city: clearable(contactText('city', 'City.')),
    state: clearable(contactText('state', 'State, province or region.')),
    zip: clearable(
      contactText('zip', 'Postal code.').regex(
        ZIP_PATTERN,
        'zip may contain only letters, digits, spaces and "-"',
      ),
    ),
    country: clearable(
      z
        .string({ error: 'country must be a string or null' })
        .trim()
        .toUpperCase()
        .regex(COUNTRY_PATTERN, 'country must be a 2-letter ISO 3166-1 country code')
        .meta({ description: 'ISO 3166-1 alpha-2 country code; stored in upper case.' }),
    ),
    phone: clearable(
      contactText('phone', 'Phone number, e.g. "+1 555 0100".').regex(
        PHONE_PATTERN,
        'phone may contain only digits, spaces, "+", "-", ".", "(" and ")"',
      ),
    ),
    // Present so that a client trying to change the plan hears why, instead of being ignored.
    plan: z
      .never({ error: PLAN_READ_ONLY_MESSAGE })
      .optional()
      .meta({ description: 'Read-only: any value is refused with 400.' }),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), EMPTY_UPDATE_MESSAGE)
  .meta({
    id: 'UpdateBillingProfileRequest',
    description:
      'A partial update of the billing contact: fields omitted are kept, null clears a field. Unknown fields are ignored.',
  });

const contactValue = (description: string) => z.string().optional().meta({ description });

export const BillingContact = z
  .object({
    first_name: contactValue('First name of the billing contact.'),
    last_name: contactValue('Last name of the billing contact.'),
    email: contactValue('Email address invoices are sent to.'),
    company: contactValue('Company name on invoices.'),
    address1: contactValue('First line of the billing address.'),
    address2: contactValue('Second line of the billing address.'),
    city: contactValue('City.'),
    state: contactValue('State, province or region.'),
    zip: contactValue('Postal code.'),
    country: contactValue('ISO 3166-1 alpha-2 country code.'),
    phone: contactValue('Phone number.'),
  })
  .meta({ id: 'BillingContact', description: 'Only the fields that are set are present.' });

export const BillingProfile = z
  .object({
    plan: z.string().meta({ description: "The account's plan; set by the operator." }),
    contact: BillingContact,
    updated_at: z
      .string()
      .nullable()
      .meta({ description: 'RFC 3339 time of the last contact update; null if never updated.' }),
  })
  .meta({ id: 'BillingProfile' });

export type UpdateBillingProfileInput = z.output<typeof UpdateBillingProfileBody>;
export type BillingContactView = z.output<typeof BillingContact>;
export type BillingProfileView = z.output<typeof BillingProfile>;
