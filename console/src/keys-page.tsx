import { useEffect, useState } from 'preact/hooks';
import { ActionMenu, type ActionMenuItem } from './action-menu.js';
import {
  ApiError,
  type Auth,
  api,
  type CreatedKey,
  type KeySummary,
  type RolledKey,
  type Subuser,
} from './api.js';
import { Dialog, FormFooter } from './dialog.js';
import { HistoryDialog, RollDialog, When } from './key-dialogs.js';
import { KeyForm } from './key-form.js';
import type { FormError, KeyFormValue } from './key-form-state.js';
import { formErrorFrom, limitsForRequest, NO_LIMITS, rfc3339ToLocalInput } from './key-settings.js';
import { expiryWarning, NO_OWN_LIMITS, ownLimitsForRequest, ownLimitsText } from './key-usage.js';
import { UsageDialog } from './key-usage-dialog.js';
import { type Area, accessTypeOf, levelsFromScopes } from './permissions.js';
import { RetryAlert } from './retry-alert.js';
import { usePageHeading } from './route.js';
import type { SignedIn } from './session.js';
import { ACTING_DISABLED_ID } from './shell.js';

type Modal =
  | { kind: 'create' }
  | { kind: 'created'; key: CreatedKey | RolledKey }
  | { kind: 'edit'; key: KeySummary; initial: KeyFormValue }
  | { kind: 'delete'; key: KeySummary }
  | { kind: 'roll'; key: KeySummary }
  | { kind: 'history'; key: KeySummary }
  | { kind: 'usage'; key: KeySummary };

const EMPTY_FORM: KeyFormValue = {
  name: '',
  type: 'restricted',
  levels: {},
  ...NO_LIMITS,
  ...NO_OWN_LIMITS,
};

function toFormError(e: unknown): FormError {
  if (e instanceof ApiError) return formErrorFrom(e.status, e.errors, e.message);
  return { field: null, message: 'Something went wrong.' };
}

function LastUsed({ keyInfo }: { keyInfo: KeySummary }) {
  if (!keyInfo.last_used_at) return <>Never</>;
  return (
    <>
      <When value={keyInfo.last_used_at} />
      {keyInfo.last_used_ip && <span class="sub">from {keyInfo.last_used_ip}</span>}
    </>
  );
}

/**
 * When the key expires, and a badge once it is within 30, 7 or 1 days of it or past it: the
 * badge's words say which, so it reads the same without its colour.
 */
function Expires({ keyInfo, now }: { keyInfo: KeySummary; now: number }) {
  if (!keyInfo.expires_at) return <>Never</>;
  const warning = expiryWarning(keyInfo.expires_at, now);
  return (
    <>
      <When value={keyInfo.expires_at} />
      {warning && (
        <span class={`badge ${warning.level === 'expired' ? 'expired' : 'expiring'}`}>
          {warning.label}
        </span>
      )}
    </>
  );
}

/**
 * SendGrid's "API Keys" settings page: the list (with last use and expiry), and Create / Edit /
 * Roll / History / Delete dialogs. With a subuser, the same page for that subuser's account:
 * every request names it in `on-behalf-of`, and the permissions offered stay the signed-in
 * key's own.
 */
export function KeysPage({ user, subuser }: { user: SignedIn; subuser: Subuser | null }) {
  const auth: Auth = subuser
    ? { apiKey: user.apiKey, onBehalfOf: subuser.username }
    : { apiKey: user.apiKey };
  const heading = usePageHeading(subuser ? `API Keys of ${subuser.username}` : 'API Keys');
  const {
    keys,
    loadError,
    setLoadError,
    loadedAt,
    areas,
    areasError,
    areasAnswered,
    load,
    loadAreas,
  } = useKeysAndAreas(auth);
  const [modal, setModal] = useState<Modal | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<FormError | null>(null);
  const [notice, setNotice] = useState('');

  const closeModal = () => {
    setModal(null);
    setFormError(null);
  };

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setFormError(null);
    try {
      await action();
    } catch (e) {
      setFormError(toFormError(e));
    } finally {
      setBusy(false);
    }
  }

  async function openEdit(key: KeySummary, areas: readonly Area[]) {
    try {
      const detail = await api.get(auth, key.api_key_id);
      setModal({
        kind: 'edit',
        key,
        initial: {
          name: detail.name,
          type: accessTypeOf(areas, detail.scopes, user.scopes),
          levels: levelsFromScopes(areas, detail.scopes),
          expires: rfc3339ToLocalInput(detail.expires_at),
          allowedIps: (detail.allowed_ips ?? []).join('\n'),
          ...ownLimitsText(detail.limits),
        },
      });
    } catch (e) {
      setLoadError(e instanceof ApiError ? e.message : 'The key could not be loaded.');
    }
  }

  const shown = areasAnswered ? keys : null;
  const form: KeyFormContext | null = areas && {
    auth,
    areas,
    callerScopes: user.scopes,
    busy,
    error: formError,
    run,
    setError: setFormError,
    close: closeModal,
  };
  return (
    <>
      <main>
        <div class="title">
          <h1 ref={heading} tabIndex={-1}>
            API Keys
          </h1>
          <button
            type="button"
            class="primary"
            // A disabled subuser gets no new keys (the API refuses them); the banner says why.
            disabled={areas === null || subuser?.disabled === true}
            aria-describedby={subuser?.disabled ? ACTING_DISABLED_ID : undefined}
            onClick={() => setModal({ kind: 'create' })}
          >
            Create API Key
          </button>
        </div>
        <p class="sr-only" role="status" aria-live="polite">
          {notice}
        </p>
        {loadError && <RetryAlert message={loadError} onRetry={load} />}
        {areasError && <RetryAlert message={areasError} onRetry={loadAreas} />}
        <KeysListing
          keys={shown}
          loading={(keys === null || !areasAnswered) && !loadError}
          subuser={subuser}
          loadedAt={loadedAt}
          actions={(key) => [
            ...(areas ? [{ label: 'Edit', onSelect: () => openEdit(key, areas) }] : []),
            { label: 'Roll', onSelect: () => setModal({ kind: 'roll', key }) },
            { label: 'Usage', onSelect: () => setModal({ kind: 'usage', key }) },
            { label: 'History', onSelect: () => setModal({ kind: 'history', key }) },
            { label: 'Delete', onSelect: () => setModal({ kind: 'delete', key }) },
          ]}
        />
      </main>

      {modal?.kind === 'create' && form && (
        <CreateKeyDialog
          form={form}
          subuser={subuser}
          onCreated={async (created) => {
            setModal({ kind: 'created', key: created });
            await load();
          }}
        />
      )}

      {modal?.kind === 'created' && <CreatedDialog created={modal.key} onClose={closeModal} />}

      {modal?.kind === 'roll' && (
        <RollDialog
          keyInfo={modal.key}
          busy={busy}
          error={formError?.message ?? null}
          onCancel={closeModal}
          onRoll={(graceSeconds) =>
            run(async () => {
              const rolled = await api.roll(auth, modal.key.api_key_id, graceSeconds);
              setModal({ kind: 'created', key: rolled });
              await load();
            })
          }
        />
      )}

      {modal?.kind === 'history' && (
        <HistoryDialog
          keyInfo={modal.key}
          load={(cursor) => api.events(auth, modal.key.api_key_id, cursor)}
          keyName={(id) => keys?.find((k) => k.api_key_id === id)?.name}
          onClose={closeModal}
        />
      )}

      {modal?.kind === 'usage' && (
        <UsageDialog
          keyInfo={modal.key}
          load={() => api.usage(auth, modal.key.api_key_id)}
          onClose={closeModal}
        />
      )}

      {modal?.kind === 'edit' && form && (
        <EditKeyDialog
          form={form}
          keyInfo={modal.key}
          initial={modal.initial}
          onSaved={async (name) => {
            closeModal();
            setNotice(`Saved ${name}.`);
            await load();
          }}
        />
      )}

      {modal?.kind === 'delete' && (
        <DeleteKeyDialog
          keyInfo={modal.key}
          busy={busy}
          error={formError?.message ?? null}
          onCancel={closeModal}
          onDelete={() =>
            run(async () => {
              await api.remove(auth, modal.key.api_key_id);
              closeModal();
              setNotice(`Deleted ${modal.key.name}.`);
              await load();
            })
          }
        />
      )}
    </>
  );
}

/**
 * The page's data: the account's keys (and when they were loaded, for the expiry marks) and the
 * deployment's permission areas, each loaded once on mount and again on retry.
 */
function useKeysAndAreas(auth: Auth) {
  const [keys, setKeys] = useState<KeySummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState(() => Date.now());
  const [areas, setAreas] = useState<Area[] | null>(null);
  const [areasError, setAreasError] = useState<string | null>(null);
  // The list waits for the first answer, so its action menus do not gain Edit under the cursor.
  const [areasAnswered, setAreasAnswered] = useState(false);

  async function loadAreas() {
    setAreasError(null);
    try {
      setAreas((await api.areas(auth)).areas);
    } catch (e) {
      setAreasError(
        `Keys cannot be created or edited: the permissions could not be loaded. ${
          e instanceof ApiError ? e.message : 'Something went wrong.'
        }`,
      );
    } finally {
      setAreasAnswered(true);
    }
  }

  async function load() {
    setLoadError(null);
    try {
      const { result } = await api.list(auth);
      setLoadedAt(Date.now());
      setKeys(result);
    } catch (e) {
      setLoadError(e instanceof ApiError ? e.message : 'The keys could not be loaded.');
    }
  }

  useEffect(() => {
    load();
    loadAreas();
  }, []);

  return {
    keys,
    loadError,
    setLoadError,
    loadedAt,
    areas,
    areasError,
    areasAnswered,
    load,
    loadAreas,
  };
}

/** The keys, one row each, with their row actions. */
function KeysTable({
  keys,
  subuser,
  loadedAt,
  actions,
}: {
  keys: readonly KeySummary[];
  subuser: Subuser | null;
  loadedAt: number;
  actions: (key: KeySummary) => ActionMenuItem[];
}) {
  return (
    <table class="list">
      <caption class="sr-only">
        {subuser ? `API keys of subuser ${subuser.username}` : 'Your API keys'}
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">API Key ID</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col">Expires</th>
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => (
          <tr key={key.api_key_id}>
            <th scope="row" data-label="Name">
              {key.name}
              {key.type !== 'general' && <span class="badge">{key.type}</span>}
            </th>
            <td data-label="API Key ID">
              <code>{key.api_key_id}</code>
            </td>
            <td data-label="Created">{key.created_at ? <When value={key.created_at} /> : '—'}</td>
            <td data-label="Last used">
              <LastUsed keyInfo={key} />
            </td>
            <td data-label="Expires">
              <Expires keyInfo={key} now={loadedAt} />
            </td>
            <td class="row-actions">
              <ActionMenu label={`Actions for ${key.name}`} items={actions(key)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Deleting a key, after a confirmation that says what stops working. */
function DeleteKeyDialog({
  keyInfo,
  busy,
  error,
  onCancel,
  onDelete,
}: {
  keyInfo: KeySummary;
  busy: boolean;
  error: string | null;
  onCancel: () => void;
  onDelete: () => void;
}) {
  return (
    <Dialog title="Delete API Key" onClose={onCancel}>
      <p>
        Delete <strong>{keyInfo.name}</strong> (<code>{keyInfo.api_key_id}</code>)? Anything using
        it stops working at once. This cannot be undone.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onDelete();
        }}
      >
        <FormFooter
          error={error}
          busy={busy}
          busyLabel={`Delete ${keyInfo.name}`}
          submitLabel={`Delete ${keyInfo.name}`}
          onCancel={onCancel}
          tone="danger"
        />
      </form>
    </Dialog>
  );
}

/**
 * The new key (created or rolled), shown once. Closing the dialog drops it from the page's
 * memory. After a roll it also says until when the previous key keeps working.
 */
function CreatedDialog({
  created,
  onClose,
}: {
  created: CreatedKey | RolledKey;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState('');
  const rolled = 'previous_key_valid_until' in created;
  return (
    <Dialog title={rolled ? 'API Key Rolled' : 'API Key Created'} onClose={onClose}>
      <p class="warning">
        Copy this key now and store it somewhere safe. <strong>It will not be shown again.</strong>
      </p>
      {rolled && (
        <p>
          {created.previous_key_valid_until ? (
            <>
              The previous key keeps working until{' '}
              <strong>
                <When value={created.previous_key_valid_until} />
              </strong>
              ; replace it everywhere before then.
            </>
          ) : (
            <>The previous key has stopped working.</>
          )}
        </p>
      )}
      <p>
        <label for="new-key">{created.name}</label>
        <input
          id="new-key"
          class="secret"
          readOnly
          value={created.api_key}
          onFocus={(e) => (e.target as HTMLInputElement).select()}
        />
      </p>
      <div class="actions">
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(created.api_key);
              setCopied('Copied to the clipboard.');
            } catch {
              setCopied('Copy failed: select the key and copy it by hand.');
            }
          }}
        >
          Copy
        </button>
        <span role="status" aria-live="polite">
          {copied}
        </span>
        <button type="button" class="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

/** What the create and edit dialogs share: the account acted on, the picker's data, the flow. */
interface KeyFormContext {
  auth: Auth;
  areas: readonly Area[];
  callerScopes: readonly string[];
  busy: boolean;
  error: FormError | null;
  /** Runs a request: busy meanwhile, its failure shown in the form. */
  run: (action: () => Promise<void>) => Promise<void>;
  setError: (error: FormError) => void;
  close: () => void;
}

function CreateKeyDialog({
  form,
  subuser,
  onCreated,
}: {
  form: KeyFormContext;
  subuser: Subuser | null;
  onCreated: (created: CreatedKey) => Promise<void>;
}) {
  return (
    <Dialog title="Create API Key" onClose={form.close}>
      {subuser && (
        <p class="hint">
          The key is created in the account of subuser <strong>{subuser.username}</strong>. It can
          hold only permissions your own key has.
        </p>
      )}
      <KeyForm
        initial={EMPTY_FORM}
        areas={form.areas}
        callerScopes={form.callerScopes}
        submitLabel="Create & View"
        busy={form.busy}
        error={form.error}
        onCancel={form.close}
        onSubmit={(value, scopes) =>
          form.run(async () => {
            const limits = limitsForRequest(NO_LIMITS, value);
            if (!limits.ok) return form.setError(limits);
            const own = ownLimitsForRequest(NO_OWN_LIMITS, value);
            if (!own.ok) return form.setError(own);
            const created = await api.create(form.auth, {
              name: value.name,
              // Full Access: SendGrid's default when scopes are omitted.
              ...(value.type === 'full' ? {} : { scopes }),
              ...limits.body,
              ...own.body,
            });
            await onCreated(created);
          })
        }
      />
    </Dialog>
  );
}

function EditKeyDialog({
  form,
  keyInfo,
  initial,
  onSaved,
}: {
  form: KeyFormContext;
  keyInfo: KeySummary;
  initial: KeyFormValue;
  onSaved: (name: string) => Promise<void>;
}) {
  return (
    <Dialog title={`Edit ${keyInfo.name}`} onClose={form.close}>
      <KeyForm
        initial={initial}
        areas={form.areas}
        callerScopes={form.callerScopes}
        submitLabel="Save"
        busy={form.busy}
        error={form.error}
        canExpire={keyInfo.type !== 'owner'}
        canHaveLimits={keyInfo.type !== 'owner'}
        onCancel={form.close}
        onSubmit={(value, scopes) =>
          form.run(async () => {
            const limits = limitsForRequest(initial, value);
            if (!limits.ok) return form.setError(limits);
            const own = ownLimitsForRequest(initial, value);
            if (!own.ok) return form.setError(own);
            await api.replace(form.auth, keyInfo.api_key_id, {
              name: value.name,
              scopes,
              ...limits.body,
              ...own.body,
            });
            await onSaved(value.name);
          })
        }
      />
    </Dialog>
  );
}

/** The keys, or why there are none to show yet (loading, or an account without keys). */
function KeysListing({
  keys,
  loading,
  subuser,
  ...table
}: {
  keys: KeySummary[] | null;
  loading: boolean;
  subuser: Subuser | null;
  loadedAt: number;
  actions: (key: KeySummary) => ActionMenuItem[];
}) {
  if (loading) return <p role="status">Loading keys…</p>;
  if (keys === null) return null;
  if (keys.length === 0) {
    return (
      <p>
        {subuser ? `${subuser.username} has no API keys yet.` : 'No API keys yet.'} Create one to
        get started.
      </p>
    );
  }
  return <KeysTable keys={keys} subuser={subuser} {...table} />;
}
