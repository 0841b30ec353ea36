import * as z from 'zod';
import { INVALID_USERNAME, SUBUSER_NAME_PATTERN } from '../domain/subuser-names.js';
import { KeyLimitsSchema } from './api-keys.js';
import { wholeNumberParam } from './query.js';
import { CONTROL_CHARACTERS } from './text.js';

/**
 * Request and response schemas of SendGrid's Subusers contract (list, create, enable/disable,
 * delete: `shared/contracts/sendgrid-subusers.openapi.json`). Keygate has no password sign-in
 * and no sending IPs: `password` and `ips` are accepted so SendGrid's clients work, checked for
 * shape, then dropped (never stored, logged or echoed).
 */

export const SUBUSERS_LIST_MAX = 500;
export const PASSWORD_MAX_LENGTH = 128;
export const SUBUSER_IPS_MAX = 100;
/** Plan ids follow the account-name rules (at most 63 characters). */
export const PLAN_ID_MAX_LENGTH = 63;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Good enough for an address a person reads: one `@`, a dot in the domain, no spaces. */
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(?:\.[^\s@.]+)+$/;

/**
 * Keygate's additive `plan`: one of the team's plans (`keygate.config.ts`), within the parent's
 * own; the domain checks which (`subuser-plans.ts`), this only the shape.
 */
const plan = z
  .string({ error: 'plan must be a string' })
  .max(PLAN_ID_MAX_LENGTH, `plan must be at most ${PLAN_ID_MAX_LENGTH} characters`);

/** The plan that applies, in answers (Keygate's addition to SendGrid's shapes). */
const appliedPlan = z.string().nullable().meta({
  description:
    "Keygate: the plan that applies to the subuser (its own, else the team's default plan); null when the deployment declares no plans.",
});

const username = z
  .string({
    error: (issue) =>
      issue.input === undefined ? 'username is required' : 'username must be a string',
  })
  .regex(SUBUSER_NAME_PATTERN, INVALID_USERNAME)
  .meta({
    description:
      'The subuser\'s username: 1-64 letters, digits, ".", "_", "-", "@" or "+", starting with a letter or digit; unique whatever the case.',
  });

const email = z
  .string({
    error: (issue) => (issue.input === undefined ? 'email is required' : 'email must be a string'),
  })
  .max(254, 'email must be at most 254 characters')
  .regex(EMAIL, 'email must be an email address')
  .refine((v) => !CONTROL_CHARACTERS.test(v), 'email must be an email address')
  .meta({ description: 'The email address of the subuser.', format: 'email' });

export const CreateSubuserBody = z
  .object({
    username,
    email,
    password: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'password is required' : 'password must be a string',
      })
      .min(1, 'password must not be empty')
      .max(PASSWORD_MAX_LENGTH, `password must be at most ${PASSWORD_MAX_LENGTH} characters`)
      .meta({
        description:
          'Accepted for compatibility and discarded: Keygate has no password sign-in, and never stores or logs it.',
      }),
    ips: z
      .array(z.string().regex(IPV4, 'ips must be IPv4 addresses'), {
        error: (issue) =>
          issue.input === undefined ? 'ips is required' : 'ips must be an array of IPv4 addresses',
      })
      .max(SUBUSER_IPS_MAX, `ips may list at most ${SUBUSER_IPS_MAX} addresses`)
      .meta({
        description:
          'Accepted for compatibility and discarded: Keygate assigns no sending IPs (SendGrid requires the field).',
      }),
    region: z
      .enum(['global', 'eu'], { error: 'region must be "global" or "eu"' })
      .optional()
      .meta({ description: 'Accepted; every Keygate subuser is global.' }),
    include_region: z.boolean({ error: 'include_region must be a boolean' }).optional(),
    plan: plan.optional().meta({
      description:
        "Keygate: the subuser's plan, one of the deployment's plans and no looser than the parent's own (403 otherwise); absent: the parent's plan.",
    }),
  })
  .meta({ id: 'CreateSubuserRequest' });
export type CreateSubuserInput = z.output<typeof CreateSubuserBody>;

export const UpdateSubuserBody = z
  .object({
    disabled: z.boolean({ error: 'disabled must be a boolean' }).optional().meta({
      description: '`true` disables the subuser (its keys are refused), `false` enables it.',
    }),
    plan: plan.optional().meta({
      description:
        "Keygate: puts the subuser on this plan, one of the deployment's plans and no looser than the parent's own (403 otherwise). Written with `disabled` in one transaction; applies within 30 s.",
    }),
  })
  .meta({ id: 'UpdateSubuserRequest' });
export type UpdateSubuserInput = z.output<typeof UpdateSubuserBody>;

export const ListSubusersQuery = z.object({
  username: z
    .string()
    .max(64, 'username must be at most 64 characters')
    .optional()
    .meta({ description: 'Only subusers whose username starts with this (any case).' }),
  limit: wholeNumberParam(
    'limit',
    1,
    SUBUSERS_LIST_MAX,
    'At most this many subusers (default 100).',
  ),
  offset: wholeNumberParam('offset', 0, 1_000_000, 'Skip this many subusers first.'),
  region: z
    .enum(['all', 'global', 'eu'], { error: 'region must be all, global or eu' })
    .optional()
    .meta({
      description: "SendGrid's region filter; accepted, and every Keygate subuser is global.",
    }),
  include_region: z
    .enum(['true', 'false'], { error: 'include_region must be true or false' })
    .optional()
    .meta({ description: 'true: each subuser carries its region (always global).' }),
});
export type ListSubusersInput = z.output<typeof ListSubusersQuery>;

export const SubuserView = z
  .object({
    disabled: z.boolean(),
    id: z.number().meta({ description: 'The ID of this subuser.' }),
    username: z.string(),
    email: z.string(),
    region: z.enum(['global', 'eu']).optional(),
    plan: appliedPlan,
  })
  .meta({ id: 'Subuser' });
export type SubuserViewType = z.output<typeof SubuserView>;

export const SubuserList = z.array(SubuserView).meta({ id: 'SubuserList' });

export const CreatedSubuser = z
  .object({
    username: z.string(),
    user_id: z.number(),
    email: z.string(),
    credit_allocation: z.object({ type: z.string() }).optional(),
    region: z.enum(['global', 'eu']).optional(),
    plan: appliedPlan,
  })
  .meta({ id: 'SubuserPost' });
export type CreatedSubuserView = z.output<typeof CreatedSubuser>;

/**
 * `GET /v3/plans` (Keygate addition, issue 17): the plans a parent may give its subusers, with
 * their limits in the keys' wire shape, and the plan that applies to the parent itself.
 */
export const GrantablePlanList = z
  .object({
    plans: z
      .array(
        KeyLimitsSchema.extend({ id: z.string().meta({ description: "The plan's id." }) }).meta({
          id: 'Plan',
          description:
            'A plan of the deployment: its id, rate limit and quotas ({} without limits).',
        }),
      )
      .meta({
        description:
          "The deployment's plans no looser than the caller's own, in the order declared; [] when it declares none.",
      }),
    own_plan: z.string().nullable().meta({
      description:
        "The plan that applies to the caller's account (its own, else the default plan); null when none applies.",
    }),
  })
  .meta({ id: 'GrantablePlanList' });
export type GrantablePlanListView = z.output<typeof GrantablePlanList>;
