import { useMemo } from 'preact/hooks';
import { FormFooter } from './dialog.js';
import { AccessTypeChooser, AreaPermissionPicker } from './key-access-fields.js';
import { type KeyFormOptions, useKeyForm } from './key-form-state.js';
import { KeyLimitsFieldset } from './key-limits-fieldset.js';
import { OwnLimitsFieldset } from './key-own-limits-fieldset.js';

function KeyNameField({ value, onChange }: { value: string; onChange: (name: string) => void }) {
  return (
    <>
      <label for="key-name">API Key Name</label>
      <input
        id="key-name"
        value={value}
        maxLength={100}
        required
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
      />
    </>
  );
}

interface KeyFormProps extends KeyFormOptions {
  submitLabel: string;
  busy: boolean;
  /** False for the owner key, which cannot expire. */
  canExpire?: boolean;
  /** False for the owner key, which only its account's plan limits. */
  canHaveLimits?: boolean;
  onCancel: () => void;
}

/**
 * Name and permissions of a key: the access type, and for Restricted Access one No / Read / Full
 * choice per area of the deployment. Then the optional expiry and IP allowlist, and the key's
 * own rate limit and quotas.
 */
export function KeyForm({
  submitLabel,
  busy,
  canExpire = true,
  canHaveLimits = true,
  onCancel,
  ...options
}: KeyFormProps) {
  const { areas, callerScopes } = options;
  const form = useKeyForm(options);
  const held = useMemo(() => new Set(callerScopes), [callerScopes]);
  return (
    <form onSubmit={form.submit} noValidate>
      <KeyNameField value={form.name} onChange={form.setName} />
      <AccessTypeChooser
        areas={areas}
        callerScopes={callerScopes}
        held={held}
        value={form.type}
        onChange={form.setType}
      />
      {form.type === 'restricted' && (
        <AreaPermissionPicker
          areas={areas}
          held={held}
          levels={form.levels}
          onChange={form.setLevels}
        />
      )}
      <KeyLimitsFieldset
        canExpire={canExpire}
        expiry={form.expiry}
        allowedIps={form.allowedIps}
        messages={form.messages}
        onExpiry={form.setExpiry}
        onAllowedIps={form.setAllowedIps}
      />
      {canHaveLimits ? (
        <OwnLimitsFieldset
          value={form.ownLimits}
          error={form.messages.limits}
          onChange={form.setOwnLimits}
        />
      ) : (
        <p class="hint">The owner key has no limits of its own; its account's plan applies.</p>
      )}
      <FormFooter
        error={form.messages.form}
        busy={busy}
        busyLabel="Saving…"
        submitLabel={submitLabel}
        onCancel={onCancel}
      />
    </form>
  );
}
