import { randomUUID } from 'node:crypto';

/**
 * A DEMO store: invoices in this process's memory, one map per account (the caller's account ID
 * from Keygate), gone when the process stops. Locally every route shares it; on AWS each route is
 * its own Lambda function, so each would see only its own. A real API keeps them in a database,
 * keyed by account the same way.
 */

export interface Invoice {
  id: string;
  customer: string;
  amount_cents: number;
  currency: string;
  created_at: string;
}

export type NewInvoice = Pick<Invoice, 'customer' | 'amount_cents' | 'currency'>;

const byAccount = new Map<string, Map<string, Invoice>>();

function invoicesOf(accountId: string): Map<string, Invoice> {
  let invoices = byAccount.get(accountId);
  if (!invoices) {
    invoices = new Map();
    byAccount.set(accountId, invoices);
  }
  return invoices;
}

/** The account's invoices, oldest first. */
export function listInvoices(accountId: string): Invoice[] {
  return [...invoicesOf(accountId).values()];
}

export function addInvoice(accountId: string, input: NewInvoice): Invoice {
  const invoice: Invoice = {
    id: `inv_${randomUUID().replaceAll('-', '')}`,
    ...input,
    created_at: new Date().toISOString(),
  };
  invoicesOf(accountId).set(invoice.id, invoice);
  return invoice;
}

/** The account's invoice; undefined for another account's, as for one that does not exist. */
export function findInvoice(accountId: string, id: string): Invoice | undefined {
  return byAccount.get(accountId)?.get(id);
}

export function removeInvoice(accountId: string, id: string): boolean {
  return byAccount.get(accountId)?.delete(id) ?? false;
}
