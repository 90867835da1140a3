export const USER_TYPES = ['SYS_Reader', 'SYS_Creator', 'Administrator'] as const;
export type UserType = (typeof USER_TYPES)[number];

export const ADMINISTRATOR: UserType = 'Administrator';
export const DEFAULT_USER_TYPE: UserType = 'SYS_Reader';

const byLowerCase = new Map<string, UserType>(USER_TYPES.map((type) => [type.toLowerCase(), type]));

/** The canonical spelling of a user type given in any letter case, or undefined if it names none. */
export function canonicalUserType(value: unknown): UserType | undefined {
  return typeof value === 'string' ? byLowerCase.get(value.toLowerCase()) : undefined;
}

/** Splits a role list into the user types it names and the business roles, each without duplicates. */
export function splitRoles(roles: readonly string[]): { types: UserType[]; roles: string[] } {
  const types = new Set<UserType>();
  const business = new Set<string>();
  for (const role of roles) {
    const type = canonicalUserType(role);
    if (type) types.add(type);
    else business.add(role);
  }
  return { types: [...types], roles: [...business] };
}
