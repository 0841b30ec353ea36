import { useEffect, useState } from 'preact/hooks';
import { ApiError, type OfferedPlan, type OfferedPlans, type Subuser } from './api.js';
import { Dialog, FormFooter } from './dialog.js';
import { limitsInWords } from './key-usage.js';

type SubuserField = 'username' | 'email' | 'plan';

/** A problem with a subuser form: beside its field, or under the form (field null). */
export interface SubuserFormError {
  field: SubuserField | null;
  message: string;
}

const FIELD_IDS = {
  username: 'subuser-username',
  email: 'subuser-email',
  plan: 'subuser-plan',
} as const;
const FIELDS: readonly (string | null)[] = Object.keys(FIELD_IDS);

/**
 * The API's refusal in the form's terms: each field's message beside it, the rest below. A plan
 * is refused with 400 (not declared) or 403 (looser than the account's own), both on `plan`.
 */
export function subuserFormErrors(e: unknown): SubuserFormError[] {
  if (!(e instanceof ApiError)) return [{ field: null, message: 'Something went wrong.' }];
  const fielded = e.errors.filter(
    (item) => FIELDS.includes(item.field) && (e.status === 400 || item.field === 'plan'),
  );
  if ((e.status !== 400 && e.status !== 403) || fielded.length === 0) {
    return [{ field: null, message: e.message }];
  }
  const rest = e.errors.filter((item) => !fielded.includes(item));
  return [
    ...fielded.map((item) => ({
      field: item.field as SubuserField,
      message: item.message,
    })),
    ...rest.map((item) => ({
      field: null,
      message: item.field ? `${item.field}: ${item.message}` : item.message,
    })),
  ];
}

const NUMBER = new Intl.NumberFormat();

/** A plan as the select offers it: its name and its limits in words. */
function planLabel(plan: OfferedPlan): string {
  const words = limitsInWords(plan, (n) => NUMBER.format(n));
  return `${plan.id} (${words.length > 0 ? words.join('; ') : 'no limits'})`;
}

/**
 * The plan select (Keygate's plans, issue 17): only the plans the account may give, which
 * `GET /v3/plans` answers; the API's refusal beside it. `inherit` adds a first choice that sends
 * no plan, so the subuser gets the account's own.
 */
function PlanSelect({
  offered,
  value,
  error,
  inherit,
  onChange,
}: {
  offered: OfferedPlans;
  value: string;
  error: string;
  inherit: boolean;
  onChange: (plan: string) => void;
}) {
  return (
    <>
      <label for={FIELD_IDS.plan}>Plan</label>
      <select
        id={FIELD_IDS.plan}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? 'subuser-plan-error subuser-plan-hint' : 'subuser-plan-hint'}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
      >
        {inherit && (
          <option value="">
            {offered.own_plan ? `Your account's plan (${offered.own_plan})` : "Your account's plan"}
          </option>
        )}
        {offered.plans.map((plan) => (
          <option key={plan.id} value={plan.id}>
            {planLabel(plan)}
          </option>
        ))}
      </select>
      <p id="subuser-plan-hint" class="hint">
        The subuser's requests count against this plan. Only plans within your account's own are
        offered.
      </p>
      {error && (
        <p id="subuser-plan-error" class="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/**
 * A new subuser: a username and an email address. No password: SendGrid's API requires one,
 * Keygate discards it, and subusers use API keys, so the console sends a random throwaway.
 */
export function CreateSubuserDialog({
  busy,
  errors,
  offered,
  onSubmit,
  onCancel,
}: {
  busy: boolean;
  errors: readonly SubuserFormError[];
  /** The plans it may be put on; no select without any. */
  offered: OfferedPlans | null;
  onSubmit: (value: { username: string; email: string; plan?: string }) => void;
  onCancel: () => void;
}) {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [plan, setPlan] = useState('');
  const [problems, setProblems] = useState<readonly SubuserFormError[] | null>(null);
  const shown = problems ?? errors;
  const errorOf = (field: SubuserField) =>
    shown
      .filter((p) => p.field === field)
      .map((p) => p.message)
      .join('; ');
  const general = shown
    .filter((p) => p.field === null)
    .map((p) => p.message)
    .join(' ');

  // The first field in error takes the focus, so its message is read out where it belongs.
  useEffect(() => {
    const first = shown.find((p) => p.field !== null)?.field;
    if (first) document.getElementById(FIELD_IDS[first])?.focus();
  }, [shown]);

  function submit(event: Event) {
    event.preventDefault();
    // No plan chosen: none is sent, and the API puts the subuser on the account's own.
    const value = { username: username.trim(), email: email.trim(), ...(plan ? { plan } : {}) };
    const missing: SubuserFormError[] = [
      ...(value.username ? [] : [{ field: 'username' as const, message: 'Enter a username.' }]),
      ...(value.email ? [] : [{ field: 'email' as const, message: 'Enter an email address.' }]),
    ];
    if (missing.length > 0) return setProblems(missing);
    setProblems(null);
    onSubmit(value);
  }

  const usernameError = errorOf('username');
  const emailError = errorOf('email');
  return (
    <Dialog title="Create Subuser" onClose={onCancel}>
      <form onSubmit={submit} noValidate>
        <p class="hint">
          A subuser is an account of its own that yours manages. Subusers sign in with API keys, not
          passwords: once it exists, use Manage keys to create its keys.
        </p>
        <label for={FIELD_IDS.username}>Username</label>
        <input
          id={FIELD_IDS.username}
          value={username}
          maxLength={64}
          autoComplete="off"
          spellcheck={false}
          aria-invalid={usernameError ? 'true' : undefined}
          aria-describedby={
            usernameError ? 'subuser-username-error subuser-username-hint' : 'subuser-username-hint'
          }
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
        />
        <p id="subuser-username-hint" class="hint">
          1 to 64 letters, digits, “.”, “_”, “-”, “@” or “+”, starting with a letter or digit.
          Unique, whatever the case.
        </p>
        {usernameError && (
          <p id="subuser-username-error" class="error" role="alert">
            {usernameError}
          </p>
        )}
        <label for={FIELD_IDS.email}>Email</label>
        <input
          id={FIELD_IDS.email}
          type="email"
          value={email}
          maxLength={254}
          autoComplete="off"
          spellcheck={false}
          aria-invalid={emailError ? 'true' : undefined}
          aria-describedby={emailError ? 'subuser-email-error' : undefined}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
        />
        {emailError && (
          <p id="subuser-email-error" class="error" role="alert">
            {emailError}
          </p>
        )}
        {offered && offered.plans.length > 0 && (
          <PlanSelect
            offered={offered}
            value={plan}
            error={errorOf('plan')}
            inherit
            onChange={setPlan}
          />
        )}
        <FormFooter
          error={general}
          busy={busy}
          busyLabel="Creating…"
          submitLabel="Create Subuser"
          onCancel={onCancel}
        />
      </form>
    </Dialog>
  );
}

/** Disabling cuts off every key of the subuser at once: it is confirmed first. */
export function DisableSubuserDialog({
  subuser,
  busy,
  error,
  onDisable,
  onCancel,
}: {
  subuser: Subuser;
  busy: boolean;
  error: string | null;
  onDisable: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog title="Disable Subuser" onClose={onCancel}>
      <p>
        Disable <strong>{subuser.username}</strong>? Every API key it has stops working at once,
        until you enable it again. Its keys are kept, and you can still manage them.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onDisable();
        }}
      >
        <FormFooter
          error={error}
          busy={busy}
          busyLabel="Disabling…"
          submitLabel={`Disable ${subuser.username}`}
          onCancel={onCancel}
          tone="danger"
        />
      </form>
    </Dialog>
  );
}

/** Deleting a subuser deletes its keys too, for good: its name is typed to confirm. */
export function DeleteSubuserDialog({
  subuser,
  busy,
  error,
  onDelete,
  onCancel,
}: {
  subuser: Subuser;
  busy: boolean;
  error: string | null;
  onDelete: () => void;
  onCancel: () => void;
}) {
  const [typed, setTyped] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const shown = mismatch ? `Type ${subuser.username} exactly to confirm.` : error;
  return (
    <Dialog title="Delete Subuser" onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const matches = typed.trim() === subuser.username;
          setMismatch(!matches);
          if (matches) onDelete();
          else document.getElementById('delete-subuser-confirm')?.focus();
        }}
        noValidate
      >
        <p>
          Delete <strong>{subuser.username}</strong> and every API key it has? Anything using its
          keys stops working at once. This cannot be undone.
        </p>
        <label for="delete-subuser-confirm">Type {subuser.username} to confirm</label>
        <input
          id="delete-subuser-confirm"
          value={typed}
          autoComplete="off"
          spellcheck={false}
          aria-invalid={mismatch ? 'true' : undefined}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
        <FormFooter
          error={shown}
          busy={busy}
          busyLabel="Deleting…"
          submitLabel={`Delete ${subuser.username}`}
          onCancel={onCancel}
          tone="danger"
        />
      </form>
    </Dialog>
  );
}

/** Puts a subuser on another plan (`PATCH /v3/subusers/{name}` with `plan`). */
export function ChangePlanDialog({
  subuser,
  offered,
  busy,
  errors,
  onSubmit,
  onCancel,
}: {
  subuser: Subuser;
  offered: OfferedPlans;
  busy: boolean;
  errors: readonly SubuserFormError[];
  onSubmit: (plan: string) => void;
  onCancel: () => void;
}) {
  const ids = offered.plans.map((p) => p.id);
  // Its current plan when it may be given again, else the account's own (always offered).
  const [plan, setPlan] = useState(
    subuser.plan !== null && ids.includes(subuser.plan)
      ? subuser.plan
      : (offered.own_plan ?? ids[0] ?? ''),
  );
  const planError = errors
    .filter((p) => p.field === 'plan')
    .map((p) => p.message)
    .join('; ');
  const general = errors
    .filter((p) => p.field !== 'plan')
    .map((p) => p.message)
    .join(' ');

  useEffect(() => {
    if (planError) document.getElementById(FIELD_IDS.plan)?.focus();
  }, [planError]);

  return (
    <Dialog title="Change Plan" onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit(plan);
        }}
      >
        <p>
          <strong>{subuser.username}</strong> is on{' '}
          {subuser.plan === null ? 'no plan' : <strong>{subuser.plan}</strong>}. Its keys count
          against the new plan within 30 seconds.
        </p>
        <PlanSelect
          offered={offered}
          value={plan}
          error={planError}
          inherit={false}
          onChange={setPlan}
        />
        <FormFooter
          error={general}
          busy={busy}
          busyLabel="Changing…"
          submitLabel="Change plan"
          onCancel={onCancel}
        />
      </form>
    </Dialog>
  );
}
