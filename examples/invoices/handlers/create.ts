import { keygateCaller, type TeamHandler } from 'keygate/runtime';
import { error, json } from './http.js';
import { addInvoice } from './store.js';

/**
 * POST /v1/invoices (invoices.create): `{"customer": "Acme", "amount_cents": 1250,
 * "currency": "EUR"}` (currency optional, USD) → 201 and the invoice.
 */
export const handler: TeamHandler = async (event) => {
  const { accountId } = keygateCaller(event);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    return error(400, 'the body must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return error(400, 'the body must be a JSON object');
  }
  const { customer, amount_cents: amount, currency = 'USD' } = body;
  if (typeof customer !== 'string' || customer.trim() === '' || customer.length > 200) {
    return error(400, 'customer must be a name of 1 to 200 characters', 'customer');
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    return error(400, 'amount_cents must be a positive whole number', 'amount_cents');
  }
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    return error(400, 'currency must be an ISO 4217 code such as USD', 'currency');
  }
  const invoice = addInvoice(accountId, {
    customer: customer.trim(),
    amount_cents: amount,
    currency,
  });
  return json(201, invoice);
};
