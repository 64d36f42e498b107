import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { toApiError } from "@/lib/errors";
import { login } from "../api/auth";
import { type FieldErrors, type LoginValues, validateLogin } from "../validation";

export function LoginForm({ onDone }: { onDone: () => void }) {
  const [values, setValues] = useState<LoginValues>({ login: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors<keyof LoginValues>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const change = (name: keyof LoginValues) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [name]: event.target.value }));
    setErrors((e) => ({ ...e, [name]: undefined }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = validateLogin(values);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    const name = values.login.trim();
    try {
      await login(name.includes("@") ? { email: name, password: values.password } : { username: name, password: values.password });
      onDone();
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.code === "invalid-credentials") setErrors({ password: "Wrong username, email or password." });
      else setFormError(apiError.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form noValidate onSubmit={submit} className="grid gap-4" aria-label="Log in">
      <FormField label="Username or email" error={errors.login}>
        <Input name="login" autoComplete="username" autoCapitalize="none" value={values.login} onChange={change("login")} />
      </FormField>
      <FormField label="Password" error={errors.password}>
        <Input name="password" type="password" autoComplete="current-password" value={values.password} onChange={change("password")} />
      </FormField>
      {formError ? <p role="alert" className="text-sm text-destructive">{formError}</p> : null}
      <Button type="submit" disabled={busy} className="w-full">
        {busy ? "Logging in…" : "Log in"}
      </Button>
    </form>
  );
}
