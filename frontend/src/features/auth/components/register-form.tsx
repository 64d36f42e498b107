import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { toApiError } from "@/lib/errors";
import { register } from "../api/auth";
import { type FieldErrors, type RegisterValues, validateRegister } from "../validation";

const SERVER_FIELDS: Record<string, keyof RegisterValues> = {
  "username-taken": "username",
  "email-taken": "email",
  "password-too-short": "password",
  "password-too-long": "password",
};

export function RegisterForm({ onDone }: { onDone: () => void }) {
  const [values, setValues] = useState<RegisterValues>({ username: "", email: "", password: "", display_name: "" });
  const [errors, setErrors] = useState<FieldErrors<keyof RegisterValues>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const change = (name: keyof RegisterValues) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [name]: event.target.value }));
    setErrors((e) => ({ ...e, [name]: undefined }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = validateRegister(values);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await register({ ...values, username: values.username.trim(), email: values.email.trim() });
      onDone();
    } catch (error) {
      const apiError = toApiError(error);
      const field = SERVER_FIELDS[apiError.code] ??
        (apiError.field && apiError.field in values ? (apiError.field as keyof RegisterValues) : null) ??
        (apiError.code.includes("username") ? "username" : apiError.code.includes("email") ? "email" : null);
      if (field) setErrors({ [field]: apiError.message });
      else setFormError(apiError.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form noValidate onSubmit={submit} className="grid gap-4" aria-label="Create an account">
      <FormField label="Username" error={errors.username}>
        <Input name="username" autoComplete="username" autoCapitalize="none" value={values.username} onChange={change("username")} />
      </FormField>
      <FormField label="Name (optional)" error={errors.display_name}>
        <Input name="display_name" autoComplete="name" value={values.display_name} onChange={change("display_name")} />
      </FormField>
      <FormField label="Email" error={errors.email}>
        <Input name="email" type="email" autoComplete="email" value={values.email} onChange={change("email")} />
      </FormField>
      <FormField label="Password" error={errors.password} hint="At least 8 characters.">
        <Input name="password" type="password" autoComplete="new-password" value={values.password} onChange={change("password")} />
      </FormField>
      {formError ? <p role="alert" className="text-sm text-destructive">{formError}</p> : null}
      <Button type="submit" disabled={busy} className="w-full">
        {busy ? "Creating your account…" : "Sign up"}
      </Button>
    </form>
  );
}
