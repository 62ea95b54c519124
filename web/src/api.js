// The server's API: bearer token in sessionStorage; a 401 ends the session (expired or
// revoked) and sends the user back to the login page with a notice.
import { reactive } from 'vue';

export const session = reactive({ token: sessionStorage.getItem('shouye.token') || '', me: null, expired: false });

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.field = body?.field || null;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (r.status === 401 && session.token) {
    logout(true);
    throw new ApiError(401, json);
  }
  if (!r.ok) throw new ApiError(r.status, json);
  return { json, total: Number(r.headers.get('X-Total-Count') || 0) };
}

export async function login(username, password) {
  const { json } = await api('POST', '/api/v1/login', { username, password });
  session.token = json.token;
  sessionStorage.setItem('shouye.token', json.token);
  session.expired = false;
  await loadMe();
}

export async function loadMe() {
  if (!session.token) return null;
  session.me = (await api('GET', '/api/v1/me')).json;
  return session.me;
}

export function logout(expired = false) {
  if (session.token && !expired) fetch('/api/v1/logout', { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } }).catch(() => {});
  session.token = '';
  session.me = null;
  session.expired = expired;
  sessionStorage.removeItem('shouye.token');
}

export const hasRole = (...roles) => !!session.me && roles.some((r) => session.me.roles.includes(r));
