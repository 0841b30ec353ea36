import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type OfferedPlans, SUBUSERS_PAGE, type Subuser, subusersApi } from './api.js';
import { RetryAlert } from './retry-alert.js';
import { hrefOf, usePageHeading } from './route.js';
import type { SignedIn } from './session.js';
import {
  ChangePlanDialog,
  CreateSubuserDialog,
  DeleteSubuserDialog,
  DisableSubuserDialog,
  type SubuserFormError,
  subuserFormErrors,
} from './subuser-dialogs.js';

type Modal =
  | { kind: 'create' }
  | { kind: 'disable'; subuser: Subuser }
  | { kind: 'plan'; subuser: Subuser }
  | { kind: 'delete'; subuser: Subuser };

const message = (e: unknown, fallback: string) => (e instanceof ApiError ? e.message : fallback);

/**
 * SendGrid's Subusers page: the signed-in account's subusers with their status; Create, Disable
 * (confirmed: it cuts their keys off), Enable and Delete (confirmed by typing the name), each
 * only when the key holds its scope; and Manage keys, which shows a subuser's API Keys page.
 * Where the deployment declares plans, each subuser's plan, a plan select on Create and Change
 * plan (Keygate's plans, issue 17), offering what `GET /v3/plans` answers.
 */
export function SubusersPage({ user }: { user: SignedIn }) {
  const heading = usePageHeading('Subusers');
  const { subusers, setSubusers, more, loading, loadError, load, focusNext } = useSubuserList(user);
  const [actionError, setActionError] = useState<string | null>(null);
  const [modal, setModal] = useState<Modal | null>(null);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<string | null>(null);
  const [formErrors, setFormErrors] = useState<readonly SubuserFormError[]>([]);
  const [notice, setNotice] = useState('');
  const offered = useOfferedPlans(user);
  const can = (scope: string) => user.scopes.includes(`subusers.${scope}`);

  const closeModal = () => {
    setModal(null);
    setFormErrors([]);
  };

  const replace = (changed: Subuser) =>
    setSubusers(
      (list) => list?.map((s) => (s.username === changed.username ? changed : s)) ?? null,
    );

  async function setDisabled(subuser: Subuser, disabled: boolean) {
    // Enable is not disabled while it runs (that would drop the focus): a second click waits.
    if (pending !== null) return;
    setBusy(true);
    setPending(subuser.username);
    setActionError(null);
    setFormErrors([]);
    try {
      await subusersApi.setDisabled(user.apiKey, subuser.username, disabled);
      replace({ ...subuser, disabled });
      closeModal();
      setNotice(
        disabled
          ? `Disabled ${subuser.username}: its keys are refused.`
          : `Enabled ${subuser.username}.`,
      );
    } catch (e) {
      const text = message(e, 'The subuser could not be changed.');
      if (disabled) setFormErrors([{ field: null, message: text }]);
      else setActionError(text);
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  const modalError = formErrors.map((p) => p.message).join(' ') || null;
  return (
    <>
      <main>
        <div class="title">
          <h1 ref={heading} tabIndex={-1}>
            Subusers
          </h1>
          {can('create') && (
            <button type="button" class="primary" onClick={() => setModal({ kind: 'create' })}>
              Create Subuser
            </button>
          )}
        </div>
        <p class="hint">
          Subusers are accounts your account manages, each with API keys of its own. They sign in
          with API keys, not passwords: use Manage keys to create and manage theirs.
        </p>
        <p class="sr-only" role="status" aria-live="polite">
          {notice}
        </p>
        {actionError && (
          <p class="error" role="alert">
            {actionError}
          </p>
        )}
        {loadError && <RetryAlert message={loadError} onRetry={() => load(subusers !== null)} />}
        {subusers === null && !loadError && <p role="status">Loading subusers…</p>}
        {subusers !== null && subusers.length === 0 && (
          <p>
            No subusers yet.{can('create') ? ' Create one to give a customer keys of its own.' : ''}
          </p>
        )}
        {subusers !== null && subusers.length > 0 && (
          <SubusersTable
            subusers={subusers}
            can={can}
            onEnable={(subuser) => setDisabled(subuser, false)}
            onDisable={(subuser) => setModal({ kind: 'disable', subuser })}
            onChangePlan={
              offered && offered.plans.length > 0
                ? (subuser) => setModal({ kind: 'plan', subuser })
                : undefined
            }
            onDelete={(subuser) => setModal({ kind: 'delete', subuser })}
          />
        )}
        {more && (
          <div class="actions">
            <button type="button" disabled={loading} onClick={() => load(true)}>
              {loading ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </main>

      {modal?.kind === 'create' && (
        <CreateSubuserDialog
          busy={busy}
          errors={formErrors}
          offered={offered}
          onCancel={closeModal}
          onSubmit={async (value) => {
            setBusy(true);
            setFormErrors([]);
            try {
              const created = await subusersApi.create(user.apiKey, value);
              closeModal();
              setNotice(`Created subuser ${created.username}.`);
              await load();
            } catch (e) {
              setFormErrors(subuserFormErrors(e));
            } finally {
              setBusy(false);
            }
          }}
        />
      )}

      {modal?.kind === 'plan' && offered && (
        <ChangePlanDialog
          subuser={modal.subuser}
          offered={offered}
          busy={busy}
          errors={formErrors}
          onCancel={closeModal}
          onSubmit={async (plan) => {
            setBusy(true);
            setFormErrors([]);
            try {
              await subusersApi.setPlan(user.apiKey, modal.subuser.username, plan);
              replace({ ...modal.subuser, plan });
              closeModal();
              setNotice(`Put ${modal.subuser.username} on the ${plan} plan.`);
            } catch (e) {
              setFormErrors(subuserFormErrors(e));
            } finally {
              setBusy(false);
            }
          }}
        />
      )}

      {modal?.kind === 'disable' && (
        <DisableSubuserDialog
          subuser={modal.subuser}
          busy={busy}
          error={modalError}
          onCancel={closeModal}
          onDisable={() => setDisabled(modal.subuser, true)}
        />
      )}

      {modal?.kind === 'delete' && (
        <DeleteSubuserDialog
          subuser={modal.subuser}
          busy={busy}
          error={modalError}
          onCancel={closeModal}
          onDelete={async () => {
            setBusy(true);
            setFormErrors([]);
            try {
              await subusersApi.remove(user.apiKey, modal.subuser.username);
              closeModal();
              focusNext.current = () => heading.current?.focus();
              setSubusers(
                (list) => list?.filter((s) => s.username !== modal.subuser.username) ?? null,
              );
              setNotice(`Deleted subuser ${modal.subuser.username} and its keys.`);
            } catch (e) {
              setFormErrors([
                { field: null, message: message(e, 'The subuser could not be deleted.') },
              ]);
            } finally {
              setBusy(false);
            }
          }}
        />
      )}
    </>
  );
}

/**
 * The subusers, a page at a time. Focus follows the list: after "Load more" the first new row
 * (the button may disappear); a caller sets `focusNext` for other changes (a delete).
 */
function useSubuserList(user: SignedIn) {
  const [subusers, setSubusers] = useState<Subuser[] | null>(null);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const focusNext = useRef<(() => void) | null>(null);

  async function load(after = false) {
    setLoading(true);
    setLoadError(null);
    try {
      const offset = after ? (subusers?.length ?? 0) : 0;
      const page = await subusersApi.list(user.apiKey, { offset });
      if (after) focusNext.current = () => document.getElementById(`subuser-${offset}`)?.focus();
      setSubusers(after ? [...(subusers ?? []), ...page] : page);
      setMore(page.length === SUBUSERS_PAGE);
    } catch (e) {
      setLoadError(message(e, 'The subusers could not be loaded.'));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    load();
  }, []);

  useEffect(() => {
    focusNext.current?.();
    focusNext.current = null;
  }, [subusers]);

  return { subusers, setSubusers, more, loading, loadError, load, focusNext };
}

/**
 * The plans the account may give its subusers; null until known. Without them (none declared,
 * or the call failed) the page works as before, with no plan choice: the API then puts a new
 * subuser on the account's own plan.
 */
function useOfferedPlans(user: SignedIn): OfferedPlans | null {
  const [offered, setOffered] = useState<OfferedPlans | null>(null);
  useEffect(() => {
    subusersApi.plans(user.apiKey).then(setOffered, () => setOffered(null));
  }, [user.apiKey]);
  return offered;
}

interface RowActions {
  can: (scope: string) => boolean;
  onEnable: (subuser: Subuser) => void;
  onDisable: (subuser: Subuser) => void;
  onDelete: (subuser: Subuser) => void;
  /** Absent when there are no plans to choose from. */
  onChangePlan: ((subuser: Subuser) => void) | undefined;
}

function SubusersTable({ subusers, ...actions }: { subusers: Subuser[] } & RowActions) {
  // Every subuser has a plan where the deployment declares plans, none where it does not.
  const withPlans = subusers.some((s) => s.plan !== null);
  return (
    <table class="list">
      <caption class="sr-only">Your subusers</caption>
      <thead>
        <tr>
          <th scope="col">Username</th>
          <th scope="col">Email</th>
          <th scope="col">Status</th>
          {withPlans && <th scope="col">Plan</th>}
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {subusers.map((subuser, i) => (
          <SubuserRow
            key={subuser.username}
            subuser={subuser}
            index={i}
            withPlans={withPlans}
            {...actions}
          />
        ))}
      </tbody>
    </table>
  );
}

function SubuserRow({
  subuser,
  index,
  can,
  onEnable,
  onDisable,
  onDelete,
  onChangePlan,
  withPlans,
}: { subuser: Subuser; index: number; withPlans: boolean } & RowActions) {
  return (
    <tr>
      <th scope="row" data-label="Username" id={`subuser-${index}`} tabIndex={-1}>
        {subuser.username}
      </th>
      <td data-label="Email">{subuser.email}</td>
      <td data-label="Status">
        <span class={subuser.disabled ? 'status disabled' : 'status enabled'}>
          {subuser.disabled ? 'Disabled' : 'Enabled'}
        </span>
      </td>
      {withPlans && <td data-label="Plan">{subuser.plan ?? '—'}</td>}
      <td class="row-actions">
        <div class="row-buttons">
          <a class="button" href={hrefOf({ view: 'keys', subuser: subuser.username })}>
            Manage keys<span class="sr-only"> of {subuser.username}</span>
          </a>
          {can('update') &&
            (subuser.disabled ? (
              <button type="button" onClick={() => onEnable(subuser)}>
                Enable<span class="sr-only"> {subuser.username}</span>
              </button>
            ) : (
              <button type="button" onClick={() => onDisable(subuser)}>
                Disable<span class="sr-only"> {subuser.username}</span>
              </button>
            ))}
          {can('update') && onChangePlan && (
            <button type="button" onClick={() => onChangePlan(subuser)}>
              Change plan<span class="sr-only"> of {subuser.username}</span>
            </button>
          )}
          {can('delete') && (
            <button type="button" class="danger-outline" onClick={() => onDelete(subuser)}>
              Delete<span class="sr-only"> {subuser.username}</span>
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
