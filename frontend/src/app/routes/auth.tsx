import { Link, Navigate, useNavigate } from "react-router";
import { AuthCard, LoginForm, RegisterForm, VerifyEmail } from "@/features/auth";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";

export function LoginRoute() {
  const navigate = useNavigate();
  if (useSession.getState().accessToken) return <Navigate to="/" replace />;
  return (
    <AuthCard title="Welcome back" subtitle="Log in to see photos from the people you follow."
      footer={<>New here? <Link to="/register" className="font-semibold text-primary hover:underline">Create an account</Link></>}>
      <LoginForm onDone={() => navigate("/", { replace: true })} />
    </AuthCard>
  );
}

export function RegisterRoute() {
  const navigate = useNavigate();
  if (useSession.getState().accessToken) return <Navigate to="/" replace />;
  return (
    <AuthCard title="Create your account" subtitle="Share photos, follow friends, see it all live."
      footer={<>Have an account? <Link to="/login" className="font-semibold text-primary hover:underline">Log in</Link></>}>
      <RegisterForm onDone={() => {
        toast.info("We emailed you a link to confirm your address; notifications are emailed only once it is confirmed.",
          "Check your email");
        navigate("/explore", { replace: true });
      }} />
    </AuthCard>
  );
}

export function VerifyEmailRoute() {
  const signedIn = useSession((s) => Boolean(s.accessToken));
  const next = signedIn ? <Link to="/" className="font-semibold text-primary hover:underline">Go to your feed</Link>
    : <Link to="/login" className="font-semibold text-primary hover:underline">Log in</Link>;
  return (
    <AuthCard title="Confirm your email" subtitle="Notifications are emailed only to a confirmed address." footer={next}>
      <VerifyEmail />
    </AuthCard>
  );
}
