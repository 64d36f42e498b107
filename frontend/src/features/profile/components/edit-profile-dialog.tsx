import { type FormEvent, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { DialogContent } from "@/components/ui/dialog";
import { FormField } from "@/components/ui/form-field";
import { Input, Textarea } from "@/components/ui/input";
import { Progress } from "@/components/ui/progress";
import type { Me } from "@/lib/api-types";
import { errorMessage, toApiError } from "@/lib/errors";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";
import { api } from "@/lib/api-client";
import { ACCEPTED_TYPES, refuseReason, uploadImage, waitUntilProcessed } from "@/lib/uploads";
import { updateMe } from "../api/profile";

const USERNAME = /^[A-Za-z0-9._]{1,30}$/;

export function EditProfileDialog({ me, onSaved }: { me: Me; onSaved: (me: Me, close?: boolean) => void }) {
  const [values, setValues] = useState({ username: me.username, display_name: me.display_name, bio: me.bio });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [avatarProgress, setAvatarProgress] = useState<number | null>(null);
  const [avatarMessage, setAvatarMessage] = useState<string | null>(null);
  const file = useRef<HTMLInputElement>(null);

  async function save(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!USERNAME.test(values.username)) found.username = "Use 1 to 30 letters, digits, dots or underscores.";
    if (values.display_name.length > 64) found.display_name = "Use at most 64 characters.";
    if (values.bio.length > 150) found.bio = "Use at most 150 characters.";
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const saved = await updateMe(values);
      useSession.getState().setUser(saved);
      onSaved(saved);
      toast.info("Profile saved");
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.code === "username-taken") setErrors({ username: apiError.message });
      else if (apiError.field && apiError.field in values) setErrors({ [apiError.field]: apiError.message });
      else toast.error(apiError, "Could not save the profile");
    } finally {
      setBusy(false);
    }
  }

  async function changeAvatar(picked: File | undefined) {
    if (!picked) return;
    const reason = refuseReason(picked);
    if (reason) {
      setAvatarMessage(reason);
      return;
    }
    setAvatarMessage(null);
    setAvatarProgress(0);
    try {
      const media = await uploadImage(picked, "avatar", setAvatarProgress);
      setAvatarProgress(null);
      setAvatarMessage("Uploaded; processing your new picture…");
      await waitUntilProcessed(media.id);
      // The processed avatar becomes the profile's through an event: read the account until it shows.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const account = await api.get("/api/me");
        if (account.avatar_media_id === media.id) {
          useSession.getState().setUser(account);
          onSaved(account, false);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      setAvatarMessage("Your new profile picture is in place.");
    } catch (error) {
      setAvatarMessage(errorMessage(error));
    } finally {
      setAvatarProgress(null);
    }
  }

  return (
    <DialogContent title="Edit profile">
      <div className="grid gap-2">
        <Button variant="secondary" onClick={() => file.current?.click()} disabled={avatarProgress !== null}>Change profile picture</Button>
        <label htmlFor="avatar-file" className="sr-only">Profile picture</label>
        <input id="avatar-file" ref={file} type="file" accept={ACCEPTED_TYPES.join(",")} className="sr-only"
          onChange={(e) => {
            void changeAvatar(e.target.files?.[0]);
            e.target.value = "";
          }} />
        {avatarProgress !== null ? <Progress value={avatarProgress * 100} aria-label="Profile picture upload" /> : null}
        {avatarMessage ? <p role="status" className="text-xs text-muted-foreground">{avatarMessage}</p> : null}
      </div>
      <form onSubmit={save} noValidate className="grid gap-4">
        <FormField label="Username" error={errors.username}>
          <Input value={values.username} autoCapitalize="none" onChange={(e) => setValues({ ...values, username: e.target.value })} />
        </FormField>
        <FormField label="Name" error={errors.display_name}>
          <Input value={values.display_name} onChange={(e) => setValues({ ...values, display_name: e.target.value })} />
        </FormField>
        <FormField label="Bio" error={errors.bio} hint={`${values.bio.length}/150`}>
          <Textarea rows={3} value={values.bio} onChange={(e) => setValues({ ...values, bio: e.target.value })} />
        </FormField>
        <Button type="submit" disabled={busy}>{busy ? "Saving…" : "Save"}</Button>
      </form>
    </DialogContent>
  );
}
