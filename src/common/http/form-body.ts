import type { HttpRequest } from './http-request';

export function isFormRequest(request: HttpRequest): boolean {
  return (request.headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
}
