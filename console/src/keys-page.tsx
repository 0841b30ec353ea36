import { useEffect, useState } from 'preact/hooks';
import { ActionMenu } from './action-menu.js';
import { ApiError, api, type CreatedKey, type KeySummary } from './api.js';
import type { SignedIn } from './app.js';
import { Dialog } from './dialog.js';
import { KeyForm, type KeyFormValue } from './key-form.js';
import { accessTypeOf, levelsFromScopes } from './permissions.js';

type Modal =
  | { kind: 'create' }
  | { kind: 'created'; key: CreatedKey }
  | { kind: 'edit'; key: KeySummary; initial: KeyFormValue }
  | { kind: 'delete'; key: KeySummary };

const EMPTY_FORM: KeyFormValue = { name: '', type: 'restricted', levels: levelsFromScopes([]) };

function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** SendGrid's "API Keys" settings page: the list, and Create / Edit / Delete dialogs. */
export function KeysPage({ user, onSignOut }: { user: SignedIn; onSignOut: () => void }) {
  const [keys, setKeys] = useState<KeySummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [modal, setModal] = useState<Modal | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');

  async function load() {
    setLoadError(null);
    try {
      setKeys((await api.list(user.apiKey)).result);
    } catch (e) {
      setLoadError(e instanceof ApiError ? e.message : 'The keys could not be loaded.');
    }
  }

  useEffect(() => {
    load();
  }, []);

  const showsLastUsed = keys?.some((k) => 'last_used_at' in k) ?? false;
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
      setFormError(e instanceof ApiError ? e.message : 'Something went wrong.');
    } finally {
      setBusy(false);
    }
  }

  async function openEdit(key: KeySummary) {
    try {
      const detail = await api.get(user.apiKey, key.api_key_id);
      setModal({
        kind: 'edit',
        key,
        initial: {
          name: detail.name,
          type: accessTypeOf(detail.scopes, user.scopes),
          levels: levelsFromScopes(detail.scopes),
        },
      });
    } catch (e) {
      setLoadError(e instanceof ApiError ? e.message : 'The key could not be loaded.');
    }
  }

  return (
    <div class="page">
      <header class="top">
        <p class="brand">Keygate</p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <div class="title">
          <h1>API Keys</h1>
          <button type="button" class="primary" onClick={() => setModal({ kind: 'create' })}>
            Create API Key
          </button>
        </div>
        <p class="sr-only" role="status" aria-live="polite">
          {notice}
        </p>
        {loadError && (
          <p class="error" role="alert">
            {loadError}{' '}
            <button type="button" onClick={load}>
              Retry
            </button>
          </p>
        )}
        {keys === null && !loadError && <p role="status">Loading keys…</p>}
        {keys !== null && keys.length === 0 && <p>No API keys yet. Create one to get started.</p>}
        {keys !== null && keys.length > 0 && (
          <table class="keys">
            <caption class="sr-only">Your API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">API Key ID</th>
                <th scope="col">Created</th>
                {showsLastUsed && <th scope="col">Last used</th>}
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
                  <td data-label="Created">{formatDate(key.created_at)}</td>
                  {showsLastUsed && <td data-label="Last used">{formatDate(key.last_used_at)}</td>}
                  <td class="row-actions">
                    <ActionMenu
                      label={`Actions for ${key.name}`}
                      items={[
                        { label: 'Edit', onSelect: () => openEdit(key) },
                        { label: 'Delete', onSelect: () => setModal({ kind: 'delete', key }) },
                      ]}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>

      {modal?.kind === 'create' && (
        <Dialog title="Create API Key" onClose={closeModal}>
          <KeyForm
            initial={EMPTY_FORM}
            callerScopes={user.scopes}
            submitLabel="Create & View"
            busy={busy}
            error={formError}
            onCancel={closeModal}
            onSubmit={(value, scopes) =>
              run(async () => {
                const created = await api.create(user.apiKey, {
                  name: value.name,
                  // Full Access: SendGrid's default when scopes are omitted.
                  ...(value.type === 'full' ? {} : { scopes }),
                });
                setModal({ kind: 'created', key: created });
                await load();
              })
            }
          />
        </Dialog>
      )}

      {modal?.kind === 'created' && <CreatedDialog created={modal.key} onClose={closeModal} />}

      {modal?.kind === 'edit' && (
        <Dialog title={`Edit ${modal.key.name}`} onClose={closeModal}>
          <KeyForm
            initial={modal.initial}
            callerScopes={user.scopes}
            submitLabel="Save"
            busy={busy}
            error={formError}
            onCancel={closeModal}
            onSubmit={(value, scopes) =>
              run(async () => {
                await api.replace(user.apiKey, modal.key.api_key_id, { name: value.name, scopes });
                closeModal();
                setNotice(`Saved ${value.name}.`);
                await load();
              })
            }
          />
        </Dialog>
      )}

      {modal?.kind === 'delete' && (
        <Dialog title="Delete API Key" onClose={closeModal}>
          <p>
            Delete <strong>{modal.key.name}</strong> (<code>{modal.key.api_key_id}</code>)? Anything
            using it stops working at once. This cannot be undone.
          </p>
          {formError && (
            <p class="error" role="alert">
              {formError}
            </p>
          )}
          <div class="actions">
            <button type="button" onClick={closeModal}>
              Cancel
            </button>
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={() =>
                run(async () => {
                  await api.remove(user.apiKey, modal.key.api_key_id);
                  closeModal();
                  setNotice(`Deleted ${modal.key.name}.`);
                  await load();
                })
              }
            >
              Delete {modal.key.name}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}

/** The new key, shown once. Closing the dialog drops it from the page's memory. */
function CreatedDialog({ created, onClose }: { created: CreatedKey; onClose: () => void }) {
  const [copied, setCopied] = useState('');
  return (
    <Dialog title="API Key Created" onClose={onClose}>
      <p class="warning">
        Copy this key now and store it somewhere safe. <strong>It will not be shown again.</strong>
      </p>
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
