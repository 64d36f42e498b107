/** The API's own rules, checked before sending so messages appear next to the fields at once. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._]{1,30}$/;
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 128;

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export interface RegisterValues {
  username: string;
  email: string;
  password: string;
  display_name: string;
}

export function validateRegister(values: RegisterValues): FieldErrors<keyof RegisterValues> {
  const errors: FieldErrors<keyof RegisterValues> = {};
  if (!values.username) errors.username = "Choose a username.";
  else if (!USERNAME_PATTERN.test(values.username)) {
    errors.username = "Use 1 to 30 letters, digits, dots or underscores.";
  }
  if (!values.email) errors.email = "Enter your email address.";
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) errors.email = "Enter a valid email address.";
  if (!values.password) errors.password = "Choose a password.";
  else if (values.password.length < MIN_PASSWORD) errors.password = `Use at least ${MIN_PASSWORD} characters.`;
  else if (values.password.length > MAX_PASSWORD) errors.password = `Use at most ${MAX_PASSWORD} characters.`;
  if (values.display_name.length > 64) errors.display_name = "Use at most 64 characters.";
  return errors;
}

export interface LoginValues {
  login: string;
  password: string;
}

export function validateLogin(values: LoginValues): FieldErrors<keyof LoginValues> {
  const errors: FieldErrors<keyof LoginValues> = {};
  if (!values.login.trim()) errors.login = "Enter your username or email.";
  if (!values.password) errors.password = "Enter your password.";
  return errors;
}
